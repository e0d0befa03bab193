"""Files on a request: what is accepted (decided from the bytes), who may add, read and remove them, and the history."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from ..conftest import EXPENSE, database_dump

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _upload(api, task_id: str, name: str, content: bytes, user: str = "bob"):
    return api.as_(user).post(f"/api/tasks/{task_id}/attachments", data={"file": (io.BytesIO(content), name)},
                              content_type="multipart/form-data")


@pytest.fixture
def review(api) -> dict:
    """Ann's expense, waiting for bob's approval."""
    started = api.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE}).json
    return api.as_("bob").get(f"/api/tasks?instanceId={started['id']}").json[0]


@pytest.mark.parametrize(("name", "content", "content_type"), [
    ("receipt.pdf", PDF, "application/pdf"),
    ("photo.PNG", PNG, "image/png"),
    ("notes.txt", "Taxi from the airport, 23:40 — Zoë\n".encode(), "text/plain"),
    ("costs.csv", b"date,amount\n2026-11-30,42.50\n", "text/csv"),
    ("quote.docx", _docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
])
def test_an_accepted_file_is_kept_with_its_found_type_and_comes_back_byte_for_byte(api, review, name, content,
                                                                                  content_type):
    added = _upload(api, review["id"], name, content)
    assert added.status_code == 201, added.json
    assert added.json["contentType"] == content_type and added.json["size"] == len(content)
    assert added.json["sha256"] == hashlib.sha256(content).hexdigest() and added.json["addedBy"] == "bob"
    listed = api.get(f"/api/instances/{review['instanceId']}/attachments").json
    assert [f["filename"] for f in listed] == [name], "the requester sees the file her manager added"
    got = api.get(f"/api/attachments/{added.json['id']}")
    assert got.status_code == 200 and got.data == content
    assert got.mimetype == content_type and got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in got.headers["Content-Security-Policy"]


@pytest.mark.parametrize(("name", "content", "said"), [
    ("invoice.pdf", b"MZ\x90\x00\x03" + bytes(300), "invoice.pdf is of type application/x-msdownload; accepted:"),
    ("page.txt", b"<!DOCTYPE html><script>alert(1)</script>", "page.txt is of type text/html; accepted:"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     "logo.svg is of type text/html"),
    ("receipt.pdf", PNG, "receipt.pdf holds a PNG image, so its name should end in .png"),
    ("data.bin", b"\x00\x01\x02\x03binary", "data.bin is not a kind of file we recognise"),
    ("archive.zip", b"PK\x03\x04" + bytes(60), "archive.zip is of type application/zip"),
    ("empty.pdf", b"", "empty.pdf is empty"),
    ("", PDF, "choose a file with a name"),
    ("../../etc/passwd", b"root:x:0:0\n", "passwd holds a text, so its name should end in .txt"),
])
def test_a_refused_file_is_said_at_the_field_and_changes_nothing(api, rt, review, name, content, said):
    before = database_dump(rt)
    refused = _upload(api, review["id"], name, content)
    assert refused.status_code == 422, refused.json
    assert said in refused.json["errors"]["file"][0], refused.json
    assert database_dump(rt) == before


def test_a_file_over_the_limit_is_refused_before_it_is_kept(database_url, app, rt):
    from bpm.app import create_app

    small = create_app({"database_url": database_url, "dev_identity": True, "max_attachment_bytes": 2000})
    try:
        client = small.test_client()
        headers = {"X-BPM-User": "ann"}
        started = client.post("/api/instances", json={"definition": "expense-approval", "payload": EXPENSE},
                              headers=headers).json
        task = client.get(f"/api/tasks?instanceId={started['id']}", headers={"X-BPM-User": "bob"}).json[0]
        before = database_dump(rt)
        over = client.post(f"/api/tasks/{task['id']}/attachments", headers={"X-BPM-User": "bob"},
                           data={"file": (io.BytesIO(PDF + bytes(3000)), "big.pdf")},
                           content_type="multipart/form-data")
        assert over.status_code == 422 and "files may hold at most 2,000 bytes" in over.json["errors"]["file"][0]
        huge = client.post(f"/api/tasks/{task['id']}/attachments", headers={"X-BPM-User": "bob"},
                           data={"file": (io.BytesIO(PDF + bytes(200_000)), "huge.pdf")},
                           content_type="multipart/form-data")
        assert huge.status_code == 413 and "larger than the limit of 67,536 bytes" in huge.json["message"]
        page = client.post(f"/tasks/{task['id']}/attachments", headers={"X-BPM-User": "bob", "Accept": "text/html"},
                           data={"file": (io.BytesIO(PDF + bytes(200_000)), "huge.pdf"), "csrf_token": "-"},
                           content_type="multipart/form-data")
        assert page.status_code == 413 and "larger than the limit of 66 KB" in page.get_data(as_text=True)
        assert database_dump(rt) == before
        other = client.post("/api/definitions/validate", json={"id": "x", "blob": "y" * 1_100_000}, headers=headers)
        assert other.status_code == 413, "other bodies keep BPM_MAX_BODY_BYTES"
    finally:
        small.extensions["bpm"].close()


def test_only_people_related_to_the_request_add_and_read_its_files(api, rt, review):
    added = _upload(api, review["id"], "receipt.pdf", PDF).json
    before = database_dump(rt)
    for outsider in ("erin", "carol"):  # an unrelated employee; finance, before the request reaches it
        assert _upload(api, review["id"], "mine.pdf", PDF, user=outsider).status_code == 404
        assert api.as_(outsider).get(f"/api/attachments/{added['id']}").status_code == 404
        assert api.as_(outsider).get(f"/api/instances/{review['instanceId']}/attachments").status_code == 404
    assert _upload(api, review["id"], "audit.pdf", PDF, user="audrey").status_code == 403, "auditors only read"
    assert api.as_("audrey").get(f"/api/attachments/{added['id']}").status_code == 200
    assert database_dump(rt) == before, "no refusal kept anything"
    late = _upload(api, review["id"], "missing-receipt.pdf", PDF, user="ann")
    assert late.status_code == 201, "the requester adds what her manager asks for, on the open task"


def test_the_uploader_removes_a_mistake_while_the_task_is_open_and_the_history_keeps_both(api, rt, review):
    wrong = _upload(api, review["id"], "wrong.pdf", PDF).json
    kept = _upload(api, review["id"], "right.pdf", PDF + b"%right").json
    before = database_dump(rt)
    assert api.as_("ann").delete(f"/api/attachments/{wrong['id']}").status_code == 403, "not hers to remove"
    assert api.as_("erin").delete(f"/api/attachments/{wrong['id']}").status_code == 404
    assert database_dump(rt) == before
    assert api.as_("bob").delete(f"/api/attachments/{wrong['id']}").status_code == 204
    assert api.get(f"/api/attachments/{wrong['id']}").status_code == 404
    assert [f["id"] for f in api.get(f"/api/instances/{review['instanceId']}/attachments").json] == [kept["id"]]
    done = api.as_("bob").post(f"/api/tasks/{review['id']}/complete", json={"outcome": "approve", "data": {}})
    assert done.status_code == 200, done.json
    before = database_dump(rt)
    assert api.as_("bob").delete(f"/api/attachments/{kept['id']}").status_code == 403, "a decision's files stay"
    assert _upload(api, review["id"], "late.pdf", PDF).status_code == 403, "files go on open tasks only"
    assert database_dump(rt) == before
    history = api.get(f"/api/instances/{review['instanceId']}/history").json
    events = [(h["cause"], h["actor"], h["changes"]) for h in history if h["cause"].startswith("attachment")]
    digest = hashlib.sha256(PDF).hexdigest()
    assert events == [
        ("attachment_added", "bob", {"attachment": [None, {"id": wrong["id"], "filename": "wrong.pdf",
                                                           "size": len(PDF), "sha256": digest}]}),
        ("attachment_added", "bob", {"attachment": [None, {"id": kept["id"], "filename": "right.pdf",
                                                           "size": len(PDF) + 6, "sha256": kept["sha256"]}]}),
        ("attachment_removed", "bob", {"attachment": [{"id": wrong["id"], "filename": "wrong.pdf",
                                                       "size": len(PDF), "sha256": digest}, None]}),
    ]


def test_a_file_name_is_kept_as_people_wrote_it_and_sent_back_safely(api, review):
    added = _upload(api, review["id"], "Reçu «taxi» <img src=x onerror=alert(1)>; 23\u202efdp.pdf", PDF).json
    assert added["filename"] == "Reçu «taxi» <img src=x onerror=alert(1)>; 23fdp.pdf", "as written, less the override"
    disposition = api.get(f"/api/attachments/{added['id']}").headers["Content-Disposition"]
    assert "filename*=UTF-8''Re%C3%A7u" in disposition and "\n" not in disposition
    control = _upload(api, review["id"], "a\tb\x1b[31m\x7f.pdf", PDF).json
    assert control["filename"] == "ab[31m.pdf", "control characters never reach a header or a page"
    missing = api.as_("bob").post(f"/api/tasks/{review['id']}/attachments", data={},
                                  content_type="multipart/form-data")
    assert missing.status_code == 422 and missing.json["errors"]["files"]["file"], missing.json


def test_the_task_page_adds_lists_and_removes_files_and_says_a_refusal_at_the_field(client, api, rt, review):
    headers = {"X-BPM-User": "bob", "Accept": "text/html"}
    page = f"/tasks/{review['id']}"

    def post(url: str, data: dict):
        return client.post(url, data={"csrf_token": "-", **data}, headers=headers, content_type="multipart/form-data")

    hostile = "<img src=x onerror=alert(1)>.pdf"
    added = post(f"{page}/attachments?back=/inbox%3Fq%3Dx", {"file": (io.BytesIO(PDF), hostile)})
    assert added.status_code == 303 and added.headers["Location"].endswith("#files")
    assert "back=%2Finbox%3Fq%3Dx" in added.headers["Location"], "the way back to the list is kept"
    html = client.get(page, headers=headers).get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in html and "<img src=x" not in html
    file_id = api.get(f"/api/instances/{review['instanceId']}/attachments").json[0]["id"]
    assert f'href="/attachments/{file_id}" download' in html and "Remove" in html
    got = client.get(f"/attachments/{file_id}", headers=headers)
    assert got.status_code == 200 and got.data == PDF and got.headers["Content-Disposition"].startswith("attachment")
    ann_sees = client.get(page, headers={"X-BPM-User": "ann", "Accept": "text/html"}).get_data(as_text=True)
    assert f'href="/attachments/{file_id}"' in ann_sees and f"/attachments/{file_id}/remove" not in ann_sees
    before = database_dump(rt)
    refused = post(f"{page}/attachments", {"file": (io.BytesIO(b"MZ" + bytes(100)), "setup.pdf")})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="f-attachment-error"' in html and "application/x-msdownload" in html
    assert 'aria-invalid="true"' in html and database_dump(rt) == before
    removed = post(f"/attachments/{file_id}/remove", {"back": "/inbox"})
    assert removed.status_code == 303 and api.get(f"/api/attachments/{file_id}").status_code == 404
    gone = client.get(removed.headers["Location"], headers=headers).get_data(as_text=True)
    assert "No files yet." in gone and "Removed &lt;img" in gone


def test_parallel_uploads_never_pass_the_cap_of_files_a_request_holds(app, review, monkeypatch):
    """Counted under the request's lock: on PostgreSQL 51-52 of 50 were stored when uploads came at once."""
    import threading

    from bpm.runtime import attachments

    monkeypatch.setattr(attachments, "MAX_PER_REQUEST", 3)
    barrier = threading.Barrier(8)
    answers: list[int] = []

    def upload(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        answers.append(client.post(f"/api/tasks/{review['id']}/attachments", headers={"X-BPM-User": "bob"},
                                   data={"file": (io.BytesIO(PDF), f"r{i}.pdf")},
                                   content_type="multipart/form-data").status_code)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = app.test_client().get(f"/api/instances/{review['instanceId']}/attachments",
                                   headers={"X-BPM-User": "bob"}).json
    assert len(stored) == 3 and sorted(answers).count(201) == 3, answers
