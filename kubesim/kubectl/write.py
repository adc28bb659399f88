"""The kubectl commands that write: ``apply -f``, ``delete``, ``scale``, ``set image``,
``label``, ``annotate``, ``patch`` (strategic merge, merge and RFC 6902 JSON patch) and ``rollout
status|restart|undo|history``, with kubectl's output lines and error messages.

They need a :class:`~kubesim.Cluster` (``cluster.kubectl("scale deployment web --replicas=5")``)
and write through its API server as ``actor="kubectl"``, so what the controllers do in response
is what they would do in a cluster. Mirrors ``staging/src/k8s.io/kubectl/pkg/cmd/{apply,delete,
scale,set,label,annotate,patch,rollout}`` and ``pkg/polymorphichelpers`` (rollout status,
history, undo). Deliberate differences: ``delete`` does not wait for graceful deletion to end
(run the cluster to play it out); ``rollout status`` runs the cluster until the rollout ends,
printing each new status line, as kubectl's watch would show it; ``rollout history
--revision`` is not implemented and says so.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import yaml

from kubesim import patch as _patches
from kubesim.errors import KubectlError, KubesimError, NotFound
from kubesim.kinds import KIND_INFO, KindInfo
from kubesim.kubectl.common import KubectlOutput, resolve_resource

__all__ = ["WRITE_COMMANDS", "apply_objects", "Applied"]

_REVISION = "deployment.kubernetes.io/revision"
_CHANGE_CAUSE = "kubernetes.io/change-cause"
_RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def _manifests() -> Any:
    return importlib.import_module("kubesim.manifests")


@attrs.frozen
class Applied:
    """One object ``kubectl apply`` handled: ``status`` is ``created``, ``configured`` or
    ``unchanged``."""

    kind: str
    namespace: str
    name: str
    status: str

    @property
    def line(self) -> str:
        """What ``kubectl apply`` prints: ``deployment.apps/nginx-deployment created``."""
        return f"{KIND_INFO[self.kind].name_prefix}/{self.name} {self.status}"


def apply_objects(cluster: Any, objs: Sequence[tuple[str, Any]]) -> list[Applied]:
    """``kubectl apply`` each ``(source, object)`` in order; the first failure raises
    :class:`KubectlError` naming the source (``error when creating "x.yaml": ...``).
    ``configured`` when the apply wrote, ``unchanged`` when it did not."""
    done: list[Applied] = []
    for source, obj in objs:
        info = KIND_INFO[obj.kind]
        ns = (obj.metadata.namespace or "default") if info.namespaced else ""
        live = cluster.api.try_get(obj.kind, obj.metadata.name, ns) if obj.metadata.name else None
        try:
            stored = cluster.apply(obj)
        except KubesimError as exc:
            verb = "creating" if live is None else "applying patch to"
            raise KubectlError(f'error when {verb} "{source}": {exc}') from None
        if live is None:
            status = "created"
        elif stored.metadata.resource_version == live.metadata.resource_version:
            status = "unchanged"
        else:
            status = "configured"
        done.append(Applied(obj.kind, stored.metadata.namespace, stored.metadata.name, status))
    return done


# --------------------------------------------------------------------------------------------
# what a command acts on


def _read_files(names: Sequence[str], recursive: bool, namespace: str | None) -> list[tuple[str, Any]]:
    manifests = _manifests()
    out: list[tuple[str, Any]] = []
    for name in names:
        if os.path.isdir(name):
            paths = []
            for root, dirs, files in os.walk(name):
                dirs.sort()
                if not recursive:
                    dirs.clear()
                paths += [os.path.join(root, f) for f in sorted(files) if f.endswith((".json", ".yaml", ".yml"))]
        elif os.path.exists(name):
            paths = [name]
        else:
            raise KubectlError(f'error: the path "{name}" does not exist')
        for path in paths:
            with open(path, "rb") as f:
                data = f.read()
            try:
                objs = manifests.load_yaml(data)
            except KubesimError as exc:
                raise KubectlError(f"error: error parsing {path}: {exc}") from None
            for obj in objs:
                if namespace and KIND_INFO[obj.kind].namespaced and not obj.metadata.namespace:
                    obj = attrs.evolve(obj, metadata=attrs.evolve(obj.metadata, namespace=namespace))
                out.append((path, obj))
    return out


def _targets(cluster: Any, command: str, opts: Any, positional: list[str]) -> tuple[list[tuple[KindInfo, Any]], list[str]]:
    """The live objects a write command names: ``-f FILE``, ``TYPE NAME...``,
    ``TYPE/NAME...``, ``TYPE -l SELECTOR`` or ``TYPE --all``; and NotFound lines."""
    from kubesim.kubectl.commands import _not_found, _split_args

    ns = opts.namespace
    if opts.filename:
        found = []
        errors = []
        for _, obj in _read_files(opts.filename, opts.recursive, ns):
            info = KIND_INFO[obj.kind]
            live_ns = (obj.metadata.namespace or ns) if info.namespaced else ""
            try:
                found.append((info, cluster.api.get(obj.kind, obj.metadata.name, live_ns)))
            except NotFound as err:
                errors.append(_not_found(err))
        return found, errors
    if not positional:
        raise KubectlError(
            f'error: You must provide one or more resources by argument or filename.\n'
            f"See 'kubectl {command} -h' for help and examples"
        )
    out: list[tuple[KindInfo, Any]] = []
    errors = []
    for res, names in _split_args(positional):
        if names:
            for name in names:
                try:
                    out.append((res, cluster.api.get(res.kind, name, ns if res.namespaced else "")))
                except NotFound as err:
                    errors.append(_not_found(err))
        elif opts.selector is not None or opts.all:
            out += [(res, o) for o in cluster.api.list(res.kind, ns if res.namespaced else None, opts.selector)]
        else:
            raise KubectlError('error: resource(s) were provided, but no name was specified')
    return out, errors


def _ref(res: KindInfo, obj: Any) -> str:
    return f"{res.name_prefix}/{obj.metadata.name}"


def _update(cluster: Any, obj: Any) -> Any:
    with cluster.cause("kubectl"):
        return cluster.api.update(obj, actor="kubectl")


def _result(lines: Sequence[str], errors: Sequence[str] = ()) -> KubectlOutput:
    return KubectlOutput("".join(f"{x}\n" for x in lines), "".join(f"{e}\n" for e in errors), 1 if errors else 0)


# --------------------------------------------------------------------------------------------
# the commands


def _apply(cluster: Any, opts: Any, positional: list[str]) -> KubectlOutput:
    if not opts.filename:
        raise KubectlError("error: must specify one of -f and -k")
    if positional:
        raise KubectlError(f"error: Unexpected args: {positional}\nSee 'kubectl apply -h' for help and examples")
    objs = _read_files(opts.filename, opts.recursive, opts.namespace)
    if not objs:
        raise KubectlError("error: no objects passed to apply")
    return _result([a.line for a in apply_objects(cluster, objs)])


def _delete(cluster: Any, opts: Any, positional: list[str]) -> KubectlOutput:
    targets, errors = _targets(cluster, "delete", opts, positional)
    if opts.ignore_not_found:
        errors = []
    grace = None
    if opts.now:
        grace = 1
    elif opts.grace_period:
        try:
            grace = int(opts.grace_period)
        except ValueError:
            raise KubectlError(f'error: invalid argument "{opts.grace_period}" for "--grace-period" flag') from None
    lines = []
    for res, obj in targets:
        with cluster.cause("kubectl"):
            cluster.api.delete(res.kind, obj.metadata.name, obj.metadata.namespace, actor="kubectl",
                               **({} if grace is None else {"grace_period_seconds": grace}))
        lines.append(f'{res.name_prefix} "{obj.metadata.name}" deleted')
    if not targets and not errors:
        return KubectlOutput("", "No resources found\n", 0)
    return _result(lines, errors)


def _scale(cluster: Any, opts: Any, positional: list[str]) -> KubectlOutput:
    if not opts.replicas:
        raise KubectlError('error: required flag(s) "replicas" not set')
    try:
        replicas = int(opts.replicas)
    except ValueError:
        raise KubectlError(f'error: invalid argument "{opts.replicas}" for "--replicas" flag: strconv.ParseInt: '
                           f'parsing "{opts.replicas}": invalid syntax') from None
    if replicas < 0:
        raise KubectlError("error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0")
    targets, errors = _targets(cluster, "scale", opts, positional)
    lines = []
    for res, obj in targets:
        if res.kind not in ("Deployment", "ReplicaSet"):
            raise KubectlError(f'error: no scaler has been implemented for {{"{res.group}" "{res.kind}"}}')
        _update(cluster, attrs.evolve(obj, spec=attrs.evolve(obj.spec, replicas=replicas)))
        lines.append(f"{_ref(res, obj)} scaled")
    return _result(lines, errors)


def _template_spec(obj: Any) -> Any:
    return obj.spec if obj.kind == "Pod" else obj.spec.template.spec


def _with_template_spec(obj: Any, pod_spec: Any) -> Any:
    if obj.kind == "Pod":
        return attrs.evolve(obj, spec=pod_spec)
    return attrs.evolve(obj, spec=attrs.evolve(obj.spec, template=attrs.evolve(obj.spec.template, spec=pod_spec)))


def set_image(obj: Any, images: dict[str, str]) -> Any:
    """``obj`` (a Pod, or a Deployment's or ReplicaSet's template) with ``container=image``
    applied (``*`` is every container); :class:`KubectlError` ``unable to find container
    named "x"`` for a name no container (or init container) has. ``O(containers)``."""
    spec = _template_spec(obj)
    names = {c.name for c in (*spec.containers, *spec.init_containers)}
    for name in images:
        if name != "*" and name not in names:
            raise KubectlError(f'error: unable to find container named "{name}"')

    def change(cs: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            attrs.evolve(c, image=images.get(c.name, images.get("*", c.image))) for c in cs
        )

    return _with_template_spec(
        obj, attrs.evolve(spec, containers=change(spec.containers), init_containers=change(spec.init_containers))
    )


def _set(cluster: Any, opts: Any, positional: list[str]) -> KubectlOutput:
    if not positional or positional[0] != "image":
        what = positional[0] if positional else ""
        raise KubectlError(f'error: kubesim implements only "kubectl set image", not "set {what}"'.rstrip())
    args = positional[1:]
    pairs = [a for a in args if "=" in a]
    resources = [a for a in args if "=" not in a]
    if not pairs:
        raise KubectlError("error: at least one image update is required")
    images = {}
    for p in pairs:
        name, _, image = p.partition("=")
        images[name] = image
    targets, errors = _targets(cluster, "set", opts, resources)
    lines = []
    for res, obj in targets:
        if res.kind not in ("Pod", "Deployment", "ReplicaSet"):
            raise KubectlError(f"error: kubesim cannot set images on {res.plural}")
        new = set_image(obj, images)
        if new != obj:
            _update(cluster, new)
            lines.append(f"{_ref(res, obj)} image updated")
    return _result(lines, errors)


def _labels_or_annotations(cluster: Any, opts: Any, positional: list[str], field: str) -> KubectlOutput:
    verb = "labeled" if field == "labels" else "annotated"
    command = "label" if field == "labels" else "annotate"
    # KEY=VALUE sets, KEY- removes (no resource name ends with "-")
    changes = [a for a in positional if "=" in a or a.endswith("-")]
    resources = [a for a in positional if a not in changes]
    if not changes:
        raise KubectlError(f"error: at least one {'label' if field == 'labels' else 'annotation'} update is required")
    targets, errors = _targets(cluster, command, opts, resources)
    lines = []
    for res, obj in targets:
        current = dict(getattr(obj.metadata, field))
        for change in changes:
            if change.endswith("-") and "=" not in change:
                current.pop(change[:-1], None)
                continue
            key, _, value = change.partition("=")
            if key in current and current[key] != value and not opts.overwrite:
                raise KubectlError(f"error: '{key}' already has a value ({current[key]}), and --overwrite is false")
            current[key] = value
        if current != dict(getattr(obj.metadata, field)):
            _update(cluster, attrs.evolve(obj, metadata=attrs.evolve(obj.metadata, **{field: current})))
        lines.append(f"{_ref(res, obj)} {verb}")
    return _result(lines, errors)


def _label(cluster: Any, opts: Any, positional: list[str]) -> KubectlOutput:
    return _labels_or_annotations(cluster, opts, positional, "labels")


def _annotate(cluster: Any, opts: Any, positional: list[str]) -> KubectlOutput:
    return _labels_or_annotations(cluster, opts, positional, "annotations")


# ---- patch


def _patch(cluster: Any, opts: Any, positional: list[str]) -> KubectlOutput:
    if not opts.patch:
        raise KubectlError("error: must specify --patch or --patch-file containing the contents of the patch")
    kind = opts.type or "strategic"
    if kind not in ("strategic", "merge", "json"):
        raise KubectlError(f'error: --type must be one of [json merge strategic], not "{kind}"')
    try:
        patch = yaml.safe_load(opts.patch)
    except yaml.YAMLError as exc:
        # one line, as kubectl's (Go yaml's "yaml: line N: <problem>")
        mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise KubectlError(f"error: unable to parse \"{opts.patch}\": yaml: {where}{problem or 'invalid document'}") from None
    if kind == "json" and not isinstance(patch, list):
        # the API server decodes an RFC 6902 patch into a list of operations
        raise KubectlError("Error from server (BadRequest): json: cannot unmarshal object into Go value of type "
                           "jsonpatch.Patch")
    if kind != "json" and not isinstance(patch, dict):
        raise KubectlError(f"error: unable to parse \"{opts.patch}\": a patch is a JSON object")
    targets, errors = _targets(cluster, "patch", opts, positional)
    manifests = _manifests()
    lines = []
    for res, obj in targets:
        before = json.loads(manifests.dump_json(obj))
        after = _patched(kind, obj.kind, before, patch)
        if after == before:
            lines.append(f"{_ref(res, obj)} patched (no change)")
            continue
        try:
            new = manifests.from_manifest(after)
        except KubesimError as exc:
            raise KubectlError(f'Error from server: {exc}') from None
        if new.kind != obj.kind or new.metadata.name != obj.metadata.name:
            raise KubectlError("error: a patch may not change the object's kind or name")
        stored = _update(cluster, new)
        changed = stored.metadata.resource_version != obj.metadata.resource_version
        lines.append(f"{_ref(res, obj)} patched" + ("" if changed else " (no change)"))
    return _result(lines, errors)


def _patched(patch_type: str, kind: str, target: Any, patch: Any) -> Any:
    """``target`` (a manifest dict) after a ``patch_type`` patch (``strategic``, ``merge`` or
    ``json``), applied as the API server applies it (:mod:`kubesim.patch`, which kubesim serve
    uses too: strategic merge by the kind's merge keys, RFC 7386, RFC 6902), with kubectl's lines
    for the server's refusals: ``The request is invalid: ...`` (422) and ``Error from server
    (BadRequest): ...`` (400). Pure. ``O(size of the object + size of the patch)``."""
    try:
        if patch_type == "json":
            return _patches.json_patch(target, patch)
        if patch_type == "merge":
            return _patches.merge_patch(target, patch)
        return _patches.strategic_merge(target, patch, _patches.schema_definition(kind))
    except _patches.PatchError as exc:
        if exc.code == 422:
            raise KubectlError(f"The request is invalid: {exc}") from None
        raise KubectlError(f"Error from server ({exc.reason}): {exc}") from None


def _json_patch(target: Any, ops: Any) -> Any:
    """RFC 6902 JSON patch as ``kubectl patch --type json`` sends it (:func:`_patched`)."""
    return _patched("json", "", target, ops)


# ---- rollout


def _owned_replica_sets(cluster: Any, d: Any) -> list[Any]:
    out = []
    for rs in cluster.api.list("ReplicaSet", d.metadata.namespace):
        if any(ref.controller and ref.uid == d.metadata.uid for ref in rs.metadata.owner_references):
            out.append(rs)
    return sorted(out, key=lambda r: int(r.metadata.annotations.get(_REVISION, "0") or 0))


def deployment_status(d: Any) -> tuple[str, bool]:
    """``polymorphichelpers.DeploymentStatusViewer``: kubectl's line for a Deployment's rollout
    and whether the rollout is done."""
    name = d.metadata.name
    st = d.status
    if d.metadata.generation > st.observed_generation:
        return "Waiting for deployment spec update to be observed...", False
    for c in getattr(st, "conditions", ()):
        if c.type == "Progressing" and c.reason == "ProgressDeadlineExceeded":
            raise KubectlError(f'error: deployment "{name}" exceeded its progress deadline')
    want = d.spec.replicas if d.spec.replicas is not None else 1
    if st.updated_replicas < want:
        return (f'Waiting for deployment "{name}" rollout to finish: {st.updated_replicas} out of {want} new '
                "replicas have been updated..."), False
    if st.replicas > st.updated_replicas:
        return (f'Waiting for deployment "{name}" rollout to finish: {st.replicas - st.updated_replicas} old '
                "replicas are pending termination..."), False
    if st.available_replicas < st.updated_replicas:
        return (f'Waiting for deployment "{name}" rollout to finish: {st.available_replicas} of '
                f"{st.updated_replicas} updated replicas are available..."), False
    return f'deployment "{name}" successfully rolled out', True


def _rollout(cluster: Any, opts: Any, positional: list[str]) -> KubectlOutput:
    if not positional or positional[0] not in ("status", "restart", "undo", "history"):
        what = positional[0] if positional else ""
        raise KubectlError(
            f'error: unknown command "{what}" for "kubectl rollout" (kubesim implements status, restart, undo, history)'
        )
    sub, resources = positional[0], positional[1:]
    targets, errors = _targets(cluster, f"rollout {sub}", opts, resources)
    out: list[str] = []
    for res, d in targets:
        if res.kind != "Deployment":
            raise KubectlError(f"error: kubesim implements rollout {sub} for deployments, not {res.plural}")
        if sub == "status":
            out += _rollout_status(cluster, d, opts.watch)
        elif sub == "restart":
            manifests = _manifests()
            tmeta = d.spec.template.metadata
            stamp = manifests.format_time(cluster.now_unix)
            tmeta = attrs.evolve(tmeta, annotations={**tmeta.annotations, _RESTARTED_AT: stamp})
            _update(cluster, attrs.evolve(d, spec=attrs.evolve(d.spec, template=attrs.evolve(d.spec.template, metadata=tmeta))))
            out.append(f"{_ref(res, d)} restarted")
        elif sub == "history":
            if opts.revision:
                raise KubectlError("error: kubesim does not implement rollout history --revision")
            rows = [("REVISION", "CHANGE-CAUSE")] + [
                (rs.metadata.annotations.get(_REVISION, "0"), rs.metadata.annotations.get(_CHANGE_CAUSE, "<none>"))
                for rs in _owned_replica_sets(cluster, d)
            ]
            from kubesim.kubectl.common import tabwrite

            out.append(f"{_ref(res, d)} ")
            out.append(tabwrite("".join(f"{a}\t{b}\n" for a, b in rows), padding=2).rstrip("\n"))
            out.append("")
        else:
            out.append(_undo(cluster, res, d, opts.to_revision))
    return _result(out, errors)


def _rollout_status(cluster: Any, d: Any, watch: bool) -> list[str]:
    key = (d.metadata.namespace, d.metadata.name)
    lines: list[str] = []
    while True:
        d = cluster.api.get("Deployment", key[1], key[0])
        text, done = deployment_status(d)
        if not lines or lines[-1] != text:
            lines.append(text)
        if done or not watch:
            return lines
        # kubectl watches; the simulator runs until the Deployment is written again
        rv = d.metadata.resource_version
        clock = cluster.clock
        while clock.peek() is not None:
            clock.step()
            now = cluster.api.try_get("Deployment", key[1], key[0])
            if now is None or now.metadata.resource_version != rv:
                break
        else:
            text, done = deployment_status(cluster.api.get("Deployment", key[1], key[0]))
            if lines[-1] != text:
                lines.append(text)
            return lines
        if cluster.api.try_get("Deployment", key[1], key[0]) is None:
            raise KubectlError(f'error: deployment "{key[1]}" was deleted')


def _undo(cluster: Any, res: KindInfo, d: Any, to_revision: str) -> str:
    history = _owned_replica_sets(cluster, d)
    revs = {int(rs.metadata.annotations.get(_REVISION, "0") or 0): rs for rs in history}
    if to_revision and to_revision != "0":
        try:
            target_rev = int(to_revision)
        except ValueError:
            raise KubectlError(f'error: invalid argument "{to_revision}" for "--to-revision" flag') from None
        if target_rev not in revs:
            raise KubectlError(f"error: unable to find specified revision {target_rev} in history")
    else:
        if len(revs) < 2:
            raise KubectlError(f'error: no rollout history found for deployment "{d.metadata.name}"')
        target_rev = sorted(revs)[-2]
    rs = revs[target_rev]
    labels = {k: v for k, v in rs.spec.template.metadata.labels.items() if k != "pod-template-hash"}
    template = attrs.evolve(rs.spec.template, metadata=attrs.evolve(rs.spec.template.metadata, labels=labels))
    if template == d.spec.template:
        return f"{_ref(res, d)} skipped rollback (current template already matches revision {target_rev})"
    _update(cluster, attrs.evolve(d, spec=attrs.evolve(d.spec, template=template)))
    return f"{_ref(res, d)} rolled back"


#: command name -> function(cluster, options, positional arguments)
WRITE_COMMANDS: dict[str, Callable[[Any, Any, list[str]], KubectlOutput]] = {
    "apply": _apply,
    "delete": _delete,
    "scale": _scale,
    "set": _set,
    "label": _label,
    "annotate": _annotate,
    "patch": _patch,
    "rollout": _rollout,
}


def run_write(command: str, argv: Sequence[str], cluster: Any) -> KubectlOutput:
    """Parse ``argv`` with the command's flags and run it against ``cluster``."""
    from kubesim.kubectl.commands import _parse

    if cluster is None:
        raise KubectlError(
            f'error: "kubectl {command}" writes, so it needs a cluster: use cluster.kubectl("{command} ...")'
        )
    opts, positional = _parse(command, argv)
    if opts.namespace == "":
        opts.namespace = "default"
    return WRITE_COMMANDS[command](cluster, opts, positional)


__all__ += ["run_write", "set_image", "deployment_status", "resolve_resource"]
