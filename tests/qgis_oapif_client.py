"""Run by Debian's python3 (PyQGIS is not in the venv): load OAPIF layers with QGIS's own
provider from the server at argv[1] and print what QGIS read, as JSON on the last line.

argv: URL, then one or more `name|subset` pairs (subset may be empty): each loads the
`new-areas` collection, with that subset string (a QGIS filter expression) when given.
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import QgsApplication, QgsDataSourceUri, QgsVectorLayer

QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()

out = {}
for spec in sys.argv[2:]:
    name, _, subset = spec.partition("|")
    uri = QgsDataSourceUri()
    uri.setParam("url", sys.argv[1])
    uri.setParam("typename", "new-areas")
    layer = QgsVectorLayer(uri.uri(False), name, "OAPIF")
    entry = {"valid": layer.isValid(), "provider": layer.providerType()}
    if layer.isValid():
        if subset:
            entry["subset_accepted"] = layer.setSubsetString(subset)
        features = list(layer.getFeatures())
        entry["ids"] = [f["id"] for f in features]
        entry["names"] = {f["id"]: f["name_zh_hans"] for f in features}
        entry["geometry_types"] = sorted({f.geometry().wkbType() for f in features})
        entry["crs"] = layer.crs().authid()
    out[name] = entry

print(json.dumps(out, ensure_ascii=False), flush=True)
# QGIS 3.22 may crash while tearing down its network threads; what it read is printed.
os._exit(0)
