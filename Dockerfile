# Stancewatch in a container: CPU-only torch, the package installed non-editable, a non-root
# user, the database and watchlists on volumes. Build: docker build -t stancewatch .
FROM python:3.11-slim

# The CPU wheel index: a plain `torch` from PyPI would pull a multi-GB CUDA build.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    STANCEWATCH_DB=/data/stancewatch.db \
    STANCEWATCH_WATCHLISTS=/watchlists

WORKDIR /app

# Same pin as the Makefile, installed first so `pip install .` finds it satisfied.
RUN pip install --index-url "${TORCH_INDEX_URL}" torch==2.13.0

COPY pyproject.toml README.md ./
COPY bot/ ./bot/
RUN pip install .

# The demo and the bench read examples/ and watchlists/ beside the installed package.
COPY examples/ ./examples/
COPY watchlists/ /watchlists/
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN site="$(python -c 'import bot, pathlib; print(pathlib.Path(bot.__file__).parent.parent)')" \
    && ln -s /app/examples "${site}/examples" \
    && ln -s /watchlists "${site}/watchlists" \
    && useradd --create-home --uid 10001 stancewatch \
    && mkdir -p /data \
    && chown stancewatch:stancewatch /data /watchlists

USER 10001:10001
VOLUME ["/data", "/watchlists"]

# Healthy while the service's poll loop runs: every 15 s tick touches "<db>.lock" (the file
# that keeps a second service off the database), even when no feed is due. 10 min without a
# tick means it is stuck. (The database itself can go hours without a write when every
# feed's interval is long.)
HEALTHCHECK --interval=60s --timeout=10s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import os, sys, time; p = os.path.realpath(os.environ['STANCEWATCH_DB']) + '.lock'; sys.exit(0 if os.path.exists(p) and time.time() - os.path.getmtime(p) < 600 else 1)"]

ENTRYPOINT ["stancewatch"]
CMD ["run"]
