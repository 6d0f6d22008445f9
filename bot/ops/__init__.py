"""Operations shell: logging, metrics, status/health endpoints."""
