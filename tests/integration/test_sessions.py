"""Cookie sessions still work for requests that carry one; requests without one get an empty session."""

from __future__ import annotations

from flask import session


def test_a_session_written_in_one_request_is_read_in_the_next(database_url):
    from bpm.app import create_app

    app = create_app({"database_url": database_url, "dev_identity": True})

    @app.post("/_test/session")
    def write() -> dict:
        session["who"] = "ann"
        return {}

    @app.get("/_test/session")
    def read() -> dict:
        return {"who": session.get("who")}

    try:
        client = app.test_client()
        client.environ_base["HTTP_X_BPM_USER"] = "ann"
        from bpm.runtime.demo import load_people

        load_people(app.extensions["bpm"])
        assert client.get("/_test/session").json == {"who": None}
        assert "Set-Cookie" not in client.get("/_test/session").headers, "an unused empty session sets no cookie"
        assert "Set-Cookie" in client.post("/_test/session").headers
        assert client.get("/_test/session").json["who"] == "ann"
        client.set_cookie("session", "forged.value.here")
        assert client.get("/_test/session").json["who"] is None, "a cookie that fails the signature is ignored"
    finally:
        app.extensions["bpm"].close()
