# The tick Lambda as a container image (the runtime dependencies are ~730 MB, far over the
# 250 MB zip limit). Build for the function's architecture:
#   docker build --platform linux/arm64 -t marketdata-tick .
# The orchestrator (infra/modules/orchestrator: Dagster's webserver, daemon and run tasks on ECS)
# is the same image plus the orchestrator dependency group, built at its own target and pushed
# to the same repository under its own tag:
#   docker build --platform linux/arm64 --target orchestrator -t marketdata-tick:orchestrator-v1 .
# No Docker engine runs on the dev machines: marketdata_tests/test_lambda_runtime.py proves the
# same entrypoint (awslambdaric + the handler) against a stand-in Runtime API instead.
FROM public.ecr.aws/lambda/python:3.11 AS tick

COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv

# Dependencies first, from the committed lock only (no dependency group: dev, forecast and web
# stay out of the tick's image), for layer caching.
COPY pyproject.toml uv.lock ./
RUN uv export --frozen --no-default-groups --no-emit-project --no-hashes --format requirements-txt \
        > /tmp/requirements.txt \
    && uv pip install --no-cache --compile-bytecode --target "${LAMBDA_TASK_ROOT}" \
        -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY marketdata_assets "${LAMBDA_TASK_ROOT}/marketdata_assets"
# Bytecode ships in the image: Lambda's file system is read-only and PYTHONDONTWRITEBYTECODE is
# set, so without it every cold start compiles Dagster, GE and pandas from source again.
# unchecked-hash: the .pyc stays valid whatever the copied sources' timestamps are.
RUN python -m compileall -q --invalidation-mode unchecked-hash "${LAMBDA_TASK_ROOT}/marketdata_assets"

# HOME is read-only on Lambda; the handler runs an in-memory Dagster instance, telemetry off.
ENV MARKETDATA_PROFILE=aws \
    DAGSTER_DISABLE_TELEMETRY=1 \
    PYTHONDONTWRITEBYTECODE=1

CMD ["marketdata_assets.lambda_handler.handler"]

# The orchestrator: the tick's image with the orchestrator group (dagster-aws, dagster-postgres,
# dagster-webserver) on top, run by ECS rather than by Lambda. The task definitions give the
# command: dagster-webserver or dagster-daemon; a run task gets `dagster api execute_run …` from
# the EcsRunLauncher. The tick's own target above stays without these packages.
FROM tick AS orchestrator
RUN uv export --frozen --only-group orchestrator --no-emit-project --no-hashes --format requirements-txt \
        > /tmp/requirements.txt \
    && uv pip install --no-cache --compile-bytecode --target "${LAMBDA_TASK_ROOT}" \
        -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt
COPY workspace.yaml "${LAMBDA_TASK_ROOT}/workspace.yaml"
COPY infra/modules/orchestrator/dagster.yaml /opt/dagster/dagster.yaml
# Packages installed with --target put their console scripts in ${LAMBDA_TASK_ROOT}/bin and
# import from ${LAMBDA_TASK_ROOT}, which the Lambda runtime would add to the path itself.
ENV DAGSTER_HOME=/opt/dagster \
    PATH="${LAMBDA_TASK_ROOT}/bin:${PATH}" \
    PYTHONPATH="${LAMBDA_TASK_ROOT}"
# Not the Lambda runtime's entrypoint: ECS runs the task definition's command as it is.
ENTRYPOINT []
CMD ["dagster-daemon", "run", "--workspace", "/var/task/workspace.yaml"]
