"""Run a job in this process as a run of the workspace's code location, so a persistent
instance's UI lists it under the job and can re-execute it.

The one module that imports Dagster's private API: Dagster 1.13 has no public way to create a
run that carries a code location's origin (`execute_job` and `execute_in_process` create runs
without one, which the UI lists under no job and cannot re-execute). Each private name below says
what public API is missing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from dagster import (
    DagsterInstance,
    ExecuteInProcessResult,
    JobDefinition,
    JobExecutionResult,
)

# Missing: a public "execute this in-memory JobDefinition for an already created run" (the public
# `execute_job` reloads the job from a pointer, so a run would not use the CLI's settings).
from dagster._core.definitions.job_base import InMemoryJob

# Missing: a public code pointer to a module attribute (public `reconstructable` takes a job
# function, not the `defs` attribute the code server loads).
from dagster._core.definitions.reconstruct import ReconstructableRepository

# Missing: the public name of the repository a `Definitions` object becomes ("__repository__").
from dagster._core.definitions.repository_definition.valid_definitions import (
    SINGLETON_REPOSITORY_NAME,
)

# Missing: a public way to execute a run created with `create_run_for_job` (see InMemoryJob).
from dagster._core.execution.api import execute_run

# Missing: public origins; `create_run_for_job` needs the job's remote origin for the UI to list
# the run under the job, and these three are how a workspace.yaml entry names it.
from dagster._core.remote_origin import (
    ManagedGrpcPythonEnvCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)

# Missing: a public form of a workspace.yaml target (module + attribute) for the origin above.
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

# workspace.yaml's one code location, as `dagster dev -w workspace.yaml` loads it.
LOCATION_NAME = "marketdata"
DEFINITIONS_MODULE = "marketdata_assets.definitions"
DEFINITIONS_ATTRIBUTE = "defs"

RunResult = ExecuteInProcessResult | JobExecutionResult


def workspace_job_origin(job_name: str) -> RemoteJobOrigin:
    """The job's origin in the workspace, built from workspace.yaml's entry without loading it
    (loading starts a code server)."""
    target = LoadableTargetOrigin(module_name=DEFINITIONS_MODULE, attribute=DEFINITIONS_ATTRIBUTE)
    location = ManagedGrpcPythonEnvCodeLocationOrigin(target, LOCATION_NAME)
    return RemoteRepositoryOrigin(location, SINGLETON_REPOSITORY_NAME).get_job_origin(job_name)


def execute_job_in_process(
    job: JobDefinition,
    instance: DagsterInstance,
    run_config: Mapping[str, object],
    tags: Mapping[str, str],
) -> RunResult:
    """Execute `job` in this process. On a persistent instance the run carries the workspace's
    origin (the `.dagster/repository` tag included): it shows in the job's Runs tab and the UI
    re-executes it through the code location. An ephemeral instance has no UI to show it to."""
    if not instance.is_persistent:
        return job.execute_in_process(
            run_config=run_config, instance=instance, tags=tags, raise_on_error=False
        )
    # The code server's own pointer to the definitions (it names its working directory).
    code = ReconstructableRepository.for_module(
        DEFINITIONS_MODULE, DEFINITIONS_ATTRIBUTE, working_directory=os.getcwd()
    )
    run = instance.create_run_for_job(
        job_def=job,
        run_config=run_config,
        tags={**job.run_tags, **tags},
        remote_job_origin=workspace_job_origin(job.name),
        job_code_origin=code.get_reconstructable_job(job.name).get_python_origin(),
    )
    # The run executes this process's definition (the CLI's settings), not a reloaded one.
    return execute_run(InMemoryJob(job), run, instance)
