"""Local stand-ins for cloud services, started by the project itself (tests, make targets)."""
