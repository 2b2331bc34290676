"""Packaging for xinqu: the packages geo, layers and webapp, and the console script."""

from pathlib import Path

from setuptools import find_packages, setup


def _requirements(name: str) -> list[str]:
    lines = (Path(__file__).parent / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


setup(
    name="xinqu",
    version="0.1.0",
    description="National-level new areas on a map, linked to the measures that name them",
    python_requires=">=3.11",
    packages=find_packages(include=["geo", "geo.*", "layers", "layers.*", "webapp", "webapp.*"]),
    include_package_data=True,
    install_requires=_requirements("requirements.txt"),
    extras_require={"test": _requirements("requirements-test.txt")},
    entry_points={"console_scripts": ["xinqu = webapp.cli:main"]},
)
