# deltabot's image: the daemon and nothing else. The config is mounted at run time
# (/etc/deltabot/config.toml) and the credentials arrive as environment variables, so the
# image holds no secret and one image serves every mode. See README "Deployment".
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DELTABOT_CONFIG=/etc/deltabot/config.toml \
    MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /opt/deltabot

# Exact versions from the lock (ccxt changes parsers between releases); --no-deps so nothing
# outside the lock gets in, and pip check proves the lock is complete.
COPY requirements.lock ./
RUN pip install --no-deps -r requirements.lock && pip check

# Then the package itself, without resolving anything again.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY strategies ./strategies
RUN pip install --no-deps --no-build-isolation . && rm -rf build ./*.egg-info

# A dedicated user; its home is the journal's volume (the image's ownership seeds a new
# named volume, so the daemon can write there without root).
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/deltabot --create-home \
        --shell /usr/sbin/nologin deltabot
USER deltabot
WORKDIR /var/lib/deltabot
VOLUME ["/var/lib/deltabot"]

# /metrics, /health, /status ([metrics] port).
EXPOSE 9108

# /health answers 503 when trading is unhealthy; urlopen raises on it, so the check fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:9108/health', timeout=4)"]

# PID 1 is the daemon itself, so SIGTERM from `docker stop` reaches its orderly stop.
ENTRYPOINT ["deltabot"]
CMD ["run"]
