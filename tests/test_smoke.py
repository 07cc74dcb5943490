def test_health_answers_ok_without_credentials(api_client, db):
    response = api_client.get("/api/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
