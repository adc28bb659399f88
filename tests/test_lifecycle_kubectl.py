"""kubectl's READY, STATUS and RESTARTS for pods, ported case by case from upstream's
``TestPrintPod`` (``pkg/printers/internalversion/printers_test.go``). Times are relative to ``NOW``; a pod without a
creation timestamp is ``<unknown>`` old, as there."""

from __future__ import annotations

from typing import Any

import pytest

from kubesim.kubectl.printers import _pod_row
from kubesim.objects import (
    Container,
    ContainerState,
    ContainerStateRunning,
    ContainerStateTerminated,
    ContainerStateWaiting,
    ContainerStatus,
    ObjectMeta,
    Pod,
    PodCondition,
    PodReadinessGate,
    PodSpec,
    PodStatus,
)

NOW = 1_800_000_000
DAY = 86400

RUNNING = ContainerState(running=ContainerStateRunning())


def _pod(name: str, n: int, phase: str, statuses: list[ContainerStatus], *, reason: str = "",
         conditions: tuple[PodCondition, ...] = (), deleted: bool = False) -> Pod:
    return Pod(
        metadata=ObjectMeta(name=name, deletion_timestamp=NOW - 10 if deleted else None),
        spec=PodSpec(containers=[Container(f"c{i}") for i in range(n)]),
        status=PodStatus(phase=phase, reason=reason, container_statuses=statuses, conditions=conditions),
    )


def _last(seconds_ago: int) -> ContainerState:
    return ContainerState(terminated=ContainerStateTerminated(finished_at=NOW - seconds_ago))


CASES: list[tuple[Pod, list[str]]] = [
    # test1: name, number of containers, restarts, container ready status
    (_pod("test1", 2, "podPhase", [ContainerStatus("c0", ready=True, restart_count=3, state=RUNNING),
                                   ContainerStatus("c1", restart_count=3)]),
     ["test1", "1/2", "podPhase", "6", "<unknown>"]),
    # test2: a container's waiting reason overwrites the pod phase
    (_pod("test2", 2, "podPhase", [
        ContainerStatus("c0", ready=True, restart_count=3, state=RUNNING),
        ContainerStatus("c1", restart_count=3,
                        state=ContainerState(waiting=ContainerStateWaiting(reason="ContainerWaitingReason")))]),
     ["test2", "1/2", "ContainerWaitingReason", "6", "<unknown>"]),
    # test3: the first container overwrites the rest
    (_pod("test3", 2, "podPhase", [
        ContainerStatus("c0", restart_count=3,
                        state=ContainerState(waiting=ContainerStateWaiting(reason="ContainerWaitingReason"))),
        ContainerStatus("c1", restart_count=3,
                        state=ContainerState(terminated=ContainerStateTerminated(reason="ContainerTerminatedReason")))]),
     ["test3", "0/2", "ContainerWaitingReason", "6", "<unknown>"]),
    # test4: ready is not enough for reporting running
    (_pod("test4", 2, "podPhase", [ContainerStatus("c0", ready=True, restart_count=3, state=RUNNING),
                                   ContainerStatus("c1", ready=True, restart_count=3)]),
     ["test4", "1/2", "podPhase", "6", "<unknown>"]),
    # test5: the pod's reason wins over its phase
    (_pod("test5", 2, "podPhase", [ContainerStatus("c0", ready=True, restart_count=3, state=RUNNING),
                                   ContainerStatus("c1", ready=True, restart_count=3)], reason="podReason"),
     ["test5", "1/2", "podReason", "6", "<unknown>"]),
    # test6: one running, one completed: NotReady without the Ready condition, Running with it
    (_pod("test6", 2, "Running", [
        ContainerStatus("c0", ready=True, restart_count=3,
                        state=ContainerState(terminated=ContainerStateTerminated(reason="Completed"))),
        ContainerStatus("c1", ready=True, restart_count=3, state=RUNNING)]),
     ["test6", "1/2", "NotReady", "6", "<unknown>"]),
    (_pod("test6", 2, "Running", [
        ContainerStatus("c0", ready=True, restart_count=3,
                        state=ContainerState(terminated=ContainerStateTerminated(reason="Completed"))),
        ContainerStatus("c1", ready=True, restart_count=3, state=RUNNING)],
        conditions=(PodCondition("Ready", "True"),)),
     ["test6", "1/2", "Running", "6", "<unknown>"]),
    # test12: restarted 5 days ago
    (_pod("test12", 1, "Running", [ContainerStatus("c0", ready=True, restart_count=3, state=RUNNING,
                                                   last_state=_last(5 * DAY))]),
     ["test12", "1/1", "Running", "3 (5d ago)", "<unknown>"]),
    # test13: one never restarted, the other 10 days ago
    (_pod("test13", 2, "Running", [
        ContainerStatus("c0", ready=True, state=RUNNING),
        ContainerStatus("c1", ready=True, restart_count=3, state=RUNNING, last_state=_last(10 * DAY))]),
     ["test13", "2/2", "Running", "3 (10d ago)", "<unknown>"]),
    # test14: the latest restart of all containers is shown
    (_pod("test14", 2, "Running", [
        ContainerStatus("c0", ready=True, restart_count=6, state=RUNNING, last_state=_last(5 * DAY)),
        ContainerStatus("c1", ready=True, restart_count=3, state=RUNNING, last_state=_last(20 * DAY))]),
     ["test14", "2/2", "Running", "9 (5d ago)", "<unknown>"]),
    # test15: SchedulingGated
    (_pod("test15", 2, "podPhase", [], conditions=(PodCondition("PodScheduled", "False", reason="SchedulingGated"),)),
     ["test15", "0/2", "SchedulingGated", "0", "<unknown>"]),
    # test16/17: succeeded and failed pods show their container's terminated reason
    (_pod("test16", 1, "Succeeded", [ContainerStatus("c0", state=ContainerState(
        terminated=ContainerStateTerminated(reason="Completed", exit_code=0)))]),
     ["test16", "0/1", "Completed", "0", "<unknown>"]),
    (_pod("test17", 1, "Failed", [ContainerStatus("c0", state=ContainerState(
        terminated=ContainerStateTerminated(reason="Error", exit_code=1)))]),
     ["test17", "0/1", "Error", "0", "<unknown>"]),
    # test18: a deleted pod that succeeded stays Completed
    (_pod("test18", 1, "Succeeded", [ContainerStatus("c0", state=ContainerState(
        terminated=ContainerStateTerminated(reason="Completed", exit_code=0)))], deleted=True),
     ["test18", "0/1", "Completed", "0", "<unknown>"]),
    # test19: a deleted running pod is Terminating
    (_pod("test19", 1, "Running", [ContainerStatus("c0", ready=True, state=RUNNING)], deleted=True),
     ["test19", "1/1", "Terminating", "0", "<unknown>"]),
    # a terminated container without a reason: its exit code (or signal)
    (_pod("exit", 1, "Running", [ContainerStatus("c0", state=ContainerState(
        terminated=ContainerStateTerminated(exit_code=2)))]),
     ["exit", "0/1", "ExitCode:2", "0", "<unknown>"]),
    (_pod("signal", 1, "Running", [ContainerStatus("c0", state=ContainerState(
        terminated=ContainerStateTerminated(exit_code=137, signal=9)))]),
     ["signal", "0/1", "Signal:9", "0", "<unknown>"]),
]


def _init_pod(name: str, n_init: int, phase: str, inits: list[ContainerStatus], statuses: list[ContainerStatus],
              *, sidecar: bool = False) -> Pod:
    return Pod(
        metadata=ObjectMeta(name=name),
        spec=PodSpec(init_containers=[Container(f"i{i}", restart_policy="Always" if sidecar else None)
                                      for i in range(n_init)],
                     containers=[Container("c0")]),
        status=PodStatus(phase=phase, init_container_statuses=inits, container_statuses=statuses),
    )


WAITING = ContainerState(waiting=ContainerStateWaiting())
DONE = ContainerState(terminated=ContainerStateTerminated())

CASES += [
    # test7: one init container restarting, one container not running
    (_init_pod("test7", 1, "podPhase", [ContainerStatus("i0", restart_count=3, state=RUNNING, last_state=_last(10))],
               [ContainerStatus("c0", state=WAITING)]),
     ["test7", "0/1", "Init:0/1", "3 (10s ago)", "<unknown>"]),
    # test8: two init containers, one restarting, the other not running
    (_init_pod("test8", 2, "podPhase", [ContainerStatus("i0", restart_count=3, state=RUNNING, last_state=_last(10)),
                                        ContainerStatus("i1", state=WAITING)],
               [ContainerStatus("c0", state=WAITING)]),
     ["test8", "0/1", "Init:0/2", "3 (10s ago)", "<unknown>"]),
    # test9: one completed without restarts, the other restarting
    (_init_pod("test9", 2, "podPhase", [ContainerStatus("i0", state=DONE),
                                        ContainerStatus("i1", restart_count=3, state=RUNNING, last_state=_last(10))],
               [ContainerStatus("c0", state=WAITING)]),
     ["test9", "0/1", "Init:1/2", "3 (10s ago)", "<unknown>"]),
    # test10: one completed with restarts, the other restarting
    (_init_pod("test10", 2, "podPhase", [
        ContainerStatus("i0", restart_count=2, state=DONE, last_state=_last(120)),
        ContainerStatus("i1", restart_count=3, state=RUNNING, last_state=_last(10))],
        [ContainerStatus("c0", state=WAITING)]),
     ["test10", "0/1", "Init:1/2", "5 (10s ago)", "<unknown>"]),
    # test11: the init container completed with restarts, the container restarting
    (_init_pod("test11", 1, "Running", [ContainerStatus("i0", restart_count=2, state=DONE, last_state=_last(120))],
               [ContainerStatus("c0", restart_count=4, state=RUNNING, last_state=_last(20))]),
     ["test11", "0/1", "Running", "4 (20s ago)", "<unknown>"]),
    # a started, ready sidecar counts in READY
    (_init_pod("sidecar", 1, "Running", [ContainerStatus("i0", ready=True, started=True, state=RUNNING)],
               [ContainerStatus("c0", ready=True, state=RUNNING)], sidecar=True),
     ["sidecar", "2/2", "Running", "0", "<unknown>"]),
]


@pytest.mark.parametrize(("pod", "expected"), CASES, ids=[f"{p.metadata.name}-{i}" for i, (p, _) in enumerate(CASES)])
def test_print_pod(pod: Pod, expected: list[str]) -> None:
    assert _pod_row(pod, NOW, False) == expected


def _gated(conditions: tuple[PodCondition, ...]) -> Any:
    pod = _pod("g", 1, "Running", [ContainerStatus("c0", ready=True, state=RUNNING)], conditions=conditions)
    return Pod(metadata=pod.metadata, status=pod.status,
               spec=PodSpec(containers=pod.spec.containers,
                            readiness_gates=[PodReadinessGate("a"), PodReadinessGate("b")]))


def test_readiness_gates_column() -> None:
    # TestPrintPodwide's READINESS GATES: gates whose condition is True, of all gates
    assert _pod_row(_gated(()), NOW, True)[-1] == "0/2"
    assert _pod_row(_gated((PodCondition("a", "True"), PodCondition("b", "False"))), NOW, True)[-1] == "1/2"
    assert _pod_row(_gated((PodCondition("b", "True"), PodCondition("a", "True"))), NOW, True)[-1] == "2/2"
    plain = _pod("p", 1, "Running", [])
    assert _pod_row(plain, NOW, True)[-1] == "<none>"
