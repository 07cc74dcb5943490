"""What several test modules share: helpers and builders, never tests. Test modules import
from here (and tests/factories.py, tests/conftest.py's fixtures), never from each other."""
