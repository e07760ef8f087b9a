# Parrot for a CUDA machine. The PyPI torch 2.11.0 wheels carry their own CUDA 13
# runtime, so a plain Debian base is enough: run with `docker run --gpus all ...`
# (NVIDIA Container Toolkit on the host provides the driver).
#
#   docker build -t parrot .
#   docker run -d --gpus all --env-file .env -v parrot-data:/data parrot
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PARROT_DATA=/data \
    PARROT_DEVICE=auto \
    HF_HOME=/data/hf-cache

WORKDIR /app
# Dependencies first, so that code changes do not reinstall torch.
COPY pyproject.toml requirements-nodeps.txt README.md ./
COPY scripts/ scripts/
COPY bot/__init__.py bot/__init__.py
COPY engine/__init__.py engine/__init__.py
RUN PARROT_PYTHON=/usr/local/bin/python3.11 scripts/bootstrap.sh run \
    && rm -rf /var/lib/apt/lists/*

COPY . .
RUN useradd --create-home --uid 10001 parrot \
    && mkdir -p /data && chown -R parrot:parrot /data /app
USER parrot
VOLUME ["/data"]

ENV PATH=/app/.venv/bin:$PATH
HEALTHCHECK --interval=5m --timeout=60s --start-period=2m CMD parrot doctor >/dev/null || exit 1
CMD ["parrot", "run"]
