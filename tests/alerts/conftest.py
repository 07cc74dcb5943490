import pytest


@pytest.fixture
def eager_celery():
    """Run tasks in-process even when REDIS_URL points Celery at a real broker."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous
