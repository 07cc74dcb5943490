"""`make run`'s database is the embedded SQLite, while the suite runs on PostgreSQL: the shop's
daily paths are walked here on a migrated SQLite file, in a fresh interpreter, so that code
written for PostgreSQL (raw SQL, COPY, planner settings) keeps a path that works on SQLite."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WALK = """
import json, os
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test.utils import setup_test_environment
from rest_framework.test import APIClient

setup_test_environment()  # (the test client's host allowed; mail kept in memory)

call_command("migrate", verbosity=0, interactive=False)
client = APIClient()
seen = {}

def answer(name, response):
    seen[name] = [response.status_code, response.json()]
    return response.json()

answer("register", client.post("/api/register/", {"username": "ann", "email": "ann@example.com",
       "password": "Str0ng-pass-99", "organization": "Ann Shop"}, format="json"))
token = answer("token", client.post("/api/token/", {"username": "ann",
               "password": "Str0ng-pass-99"}, format="json"))["access"]
client.credentials(HTTP_AUTHORIZATION="Bearer " + token)
rows = ["sku,name,price,cost_price,quantity,category_name,supplier_name"]
rows += [f"TOOL-{n:03d},Steel tool {n},{n + 1}.50,1.25,{n % 4},Tools,Acme" for n in range(120)]
upload = SimpleUploadedFile("products.csv", "\\n".join(rows).encode(), content_type="text/csv")
answer("import", client.post("/api/imports/", {"file": upload, "mode": "create",
       "create_missing": "true", "dry_run": "false"}, format="multipart"))
answer("search", client.get("/api/products/", {"search": "steel", "page_size": 5}))
product = client.get("/api/products/", {"search": "TOOL-001"}).json()["results"][0]["id"]
supplier = client.get("/api/suppliers/").json()["results"][0]["id"]
answer("supplier product", client.post("/api/supplier-products/", {"supplier": supplier,
       "product": product, "unit_cost": "1.10", "pack_size": 6, "is_preferred": True},
       format="json"))
answer("rule", client.post("/api/reorder-rules/", {"product": product, "min_quantity": 5,
       "max_quantity": 20}, format="json"))
answer("due", client.get("/api/replenishment/"))
answer("drafts", client.post("/api/replenishment/orders/", {}, format="json"))
answer("audit", client.get("/api/audit/", {"page_size": 1}))
print(json.dumps(seen))
"""


def test_the_quick_start_paths_work_on_sqlite(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
        "SECURE_SSL_REDIRECT": "false",
    }
    done = subprocess.run([sys.executable, "-c", WALK], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    assert {name: status for name, (status, _) in seen.items()} == {
        "register": 201, "token": 200, "import": 201, "search": 200, "supplier product": 201,
        "rule": 201, "due": 200, "drafts": 201, "audit": 200,
    }  # fmt: skip
    assert seen["import"][1]["created"] == 120
    assert seen["search"][1]["count"] == 120
    assert [row["sku"] for row in seen["due"][1]] == ["TOOL-001"]
    assert seen["due"][1][0]["suggested_quantity"] == 24  # 20 - 1, in whole packs of 6
    [draft] = seen["drafts"][1]["purchase_orders"]
    assert [line["quantity"] for line in draft["items"]] == [24]
