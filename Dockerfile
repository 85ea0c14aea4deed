# The prediction API (`kaizen serve`). The bundle is a pipeline output, so build after
# `make repro` (.github/workflows/deploy.yml does):
#   docker build -t kaizen .
#   docker run --rm -v kaizen-data:/data kaizen kaizen events init     # once: the event store
#   docker run -p 8000:8000 -v kaizen-data:/data -e KAIZEN_FEEDBACK_TOKEN=… kaizen
# Base: python:3.11-slim pinned by digest (the multi-platform index digest; bump it with the tag).
ARG PYTHON_IMAGE=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
# The runtime lock (no dev tools) as is, every file checked against its hashes. Nothing is built
# in an isolated environment, whose downloads pip does not hash-check: the lock's setuptools goes
# in first and builds the lock's one source distribution and the package (Makefile "set-up").
COPY requirements.lock ./
RUN sed -n '/^setuptools==/,/# via/p' requirements.lock > /tmp/build.lock \
    && /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r /tmp/build.lock \
    && /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps --no-build-isolation \
        -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps --no-build-isolation . \
    && /opt/venv/bin/pip check

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 kaizen \
    && useradd --system --uid 10001 --gid kaizen --home-dir /app --no-create-home kaizen \
    && mkdir -p /data \
    && chown kaizen:kaizen /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The one deployable folder (model, threshold, reference profile, hashes): nothing else.
COPY models/bundle/ models/bundle/
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    KAIZEN_BUNDLE=/app/models/bundle \
    KAIZEN_DB=/data/events.db
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"]
CMD ["kaizen", "serve", "--host", "0.0.0.0", "--port", "8000"]
