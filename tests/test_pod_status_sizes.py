"""The PodStatus sizes by memoised parts (:func:`kubesim.wire.pods._pod_status_pair`) against
the full encoders: the protobuf body ``len(_pod_status(s))`` and the Go JSON length of
``manifests.encode(s)``, on random statuses (odd and unicode strings, empty and ``None``
fields, many containers, negative and huge numbers, times at the RFC 3339 edges), on
sequences that share parts (so the memos hit), with the memos bounded to a couple of entries
(so they are cleared mid-walk), and across objects dying and their ids being reused."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubesim import manifests, wire
from kubesim import objects as o
from kubesim.wire import pods
from kubesim.wire.caches import _PAIR_MASK, _PAIR_SHIFT

# Characters Go's JSON escapes (control characters, quote, backslash, <, >, &, U+2028/9), a
# lone surrogate (written as \ufffd), multi-byte UTF-8, and plain ASCII.
_odd = st.text(alphabet=st.sampled_from(list('ab-./:"\\<>&\x00\x1f\n\t\u2028\u2029\ud800é日🙂')), max_size=8)
_long = st.text(alphabet=st.sampled_from(list("ab日")), min_size=40, max_size=70)  # lengths around 127 bytes
_str = st.one_of(st.just(""), _odd, st.text(max_size=6), _long)
_int32 = st.one_of(st.integers(-(2**31), 2**31 - 1), st.sampled_from([0, -1, 127, 128, 2**31 - 1, -(2**31)]))

_T_MIN = -62135596800  # 0001-01-01T00:00:00Z, the first time the manifests format
_T_MAX = 253402300799  # 9999-12-31T23:59:59Z, the last
_time = st.one_of(
    st.none(),
    st.integers(_T_MIN, _T_MAX),
    st.sampled_from([
        _T_MIN, _T_MIN + 1, -30610224001, -30610224000, -1, 0, 1, 2**28 - 1, 2**28, 2**35 - 1, 2**35,
        _T_MAX - 1, _T_MAX,
    ]),
)

_state = st.builds(
    o.ContainerState,
    waiting=st.none() | st.builds(o.ContainerStateWaiting, reason=_str, message=_str),
    running=st.none() | st.builds(o.ContainerStateRunning, started_at=_time),
    terminated=st.none()
    | st.builds(
        o.ContainerStateTerminated,
        exit_code=_int32,
        signal=_int32,
        reason=_str,
        message=_str,
        started_at=_time,
        finished_at=_time,
        container_id=_str,
    ),
)
_container_status = st.builds(
    o.ContainerStatus,
    name=_str,
    state=_state,
    last_state=_state,
    ready=st.booleans(),
    restart_count=_int32,
    image=_str,
    image_id=_str,
    container_id=_str,
    started=st.none() | st.booleans(),
)
_condition = st.builds(
    o.PodCondition,
    type=_str,
    status=_str,
    last_transition_time=_time,
    last_probe_time=_time,
    reason=_str,
    message=_str,
)


def _statuses(conditions: st.SearchStrategy[o.PodCondition],
              containers: st.SearchStrategy[o.ContainerStatus],
              ips: st.SearchStrategy[tuple[o.PodIP, ...]],
              host_ips: st.SearchStrategy[tuple[o.HostIP, ...]]) -> st.SearchStrategy[o.PodStatus]:
    return st.builds(
        o.PodStatus,
        phase=_str,
        conditions=st.lists(conditions, max_size=6).map(tuple),
        host_ip=_str,
        pod_ip=_str,
        pod_ips=ips,
        start_time=_time,
        reason=_str,
        message=_str,
        container_statuses=st.lists(containers, max_size=8).map(tuple),
        init_container_statuses=st.lists(containers, max_size=3).map(tuple),
        host_ips=host_ips,
        qos_class=_str,
    )


_pod_ips = st.lists(st.builds(o.PodIP, ip=_str), max_size=3).map(tuple)
_host_ips = st.lists(st.builds(o.HostIP, ip=_str), max_size=3).map(tuple)
_status = _statuses(_condition, _container_status, _pod_ips, _host_ips)


@st.composite
def _sharing_statuses(draw: st.DrawFn) -> list[o.PodStatus]:
    """Statuses drawn from small pools of conditions, states, container statuses and IP
    tuples, as the kubelet shares them, so the part memos are hit (and equal-valued but
    distinct objects are mixed in)."""
    conds = draw(st.lists(_condition, min_size=1, max_size=4))
    states = draw(st.lists(_state, min_size=1, max_size=3))
    css = draw(st.lists(st.builds(
        o.ContainerStatus, name=_str, state=st.sampled_from(states), last_state=st.sampled_from(states),
        ready=st.booleans(), restart_count=_int32, image=_str, image_id=_str, container_id=_str,
        started=st.none() | st.booleans()), min_size=1, max_size=4))
    css += [attrs.evolve(c, container_id=draw(_str)) for c in css]  # the same but for containerID
    ips = draw(st.lists(_pod_ips, min_size=1, max_size=3))
    hips = draw(st.lists(_host_ips, min_size=1, max_size=3))
    return draw(st.lists(
        _statuses(st.sampled_from(conds), st.sampled_from(css), st.sampled_from(ips), st.sampled_from(hips)),
        min_size=1, max_size=8))


def _reference(s: o.PodStatus) -> tuple[int, int]:
    return len(pods._pod_status(s)), len(wire.go_json_bytes(manifests.encode(s)))


def _sized(s: o.PodStatus) -> tuple[int, int]:
    v = pods._pod_status_pair(s)
    return v & _PAIR_MASK, v >> _PAIR_SHIFT


@given(_status)
def test_pod_status_sizes_are_the_encoders_lengths(s: o.PodStatus) -> None:
    want = _reference(s)
    assert _sized(s) == want
    assert _sized(s) == want  # again, from the memos
    wire.clear_caches()
    assert _sized(s) == want


@given(_sharing_statuses())
def test_shared_parts_are_sized_exactly(statuses: list[o.PodStatus]) -> None:
    wire.clear_caches()
    for s in statuses + statuses:
        assert _sized(s) == _reference(s)


@given(_sharing_statuses())
def test_memos_cleared_mid_walk_stay_exact(statuses: list[o.PodStatus]) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pods, "_STATUS_MEMO_SIZE", 2)
        for s in statuses + statuses[::-1]:
            assert _sized(s) == _reference(s)
    wire.clear_caches()


def test_ids_reused_after_objects_die_are_not_mistaken() -> None:
    """Statuses built and dropped one after another (CPython reuses the freed ids at once):
    every size is still the encoders' own, since a memo entry holds what its ids name. The
    container statuses differ only in their state (a memo key by id) and containerID, so a
    memo that did not hold its states would find a dead state's entry under a reused id."""
    wire.clear_caches()
    for i in range(300):
        c = o.ContainerStatus(name="c", state=o.ContainerState(
            running=o.ContainerStateRunning(started_at=i * 10**8 if i % 3 else None)), restart_count=0,
            container_id="x" * (i % 130))
        s = o.PodStatus(
            phase="Running" if i % 2 else "", conditions=(o.PodCondition("Ready", "True" * (i % 4), i),),
            pod_ip=f"10.0.0.{i % 256}", pod_ips=tuple(o.PodIP(f"10.0.0.{j}") for j in range(i % 3)),
            container_statuses=(c,) * (i % 4), host_ips=(o.HostIP("é" * (i % 5)),))
        assert _sized(s) == _reference(s)
        del c, s  # acyclic: freed here, by reference counting (no collection needed)


def test_memo_keys_cover_every_field() -> None:
    """The memo keys name the fields they cover (a field added to one of these classes must
    be added to its key, or its sizes would be taken from a status that differs in it)."""
    assert [f.name for f in attrs.fields(o.PodStatus)] == [
        "phase", "conditions", "host_ip", "pod_ip", "pod_ips", "start_time", "reason", "message",
        "container_statuses", "init_container_statuses", "host_ips", "qos_class"]
    assert [f.name for f in attrs.fields(o.ContainerStatus)] == [
        "name", "state", "last_state", "ready", "restart_count", "image", "image_id", "container_id", "started"]
    assert [f.name for f in attrs.fields(o.PodIP)] == ["ip"]
    assert [f.name for f in attrs.fields(o.HostIP)] == ["ip"]
