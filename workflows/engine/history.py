"""Keeping a case's stored state the size of what is still alive in it.

SpiffWorkflow keeps every task it ever ran in the task tree, so a loop makes the tree one branch
per iteration deeper. Everything that walks the tree (the serializer, the engine's searches for
ready tasks, parallel joins' ancestor checks) then costs more at every step, and at depth 1000 the
engine's tree iterator (``TaskIterator``'s default ``max_depth``) no longer sees the ready task:
a loop case stops without an error after 333 iterations of a three-element loop.

:func:`prune` cuts the finished part of the tree above the point where all live work is:

- the anchors are the tasks not finished yet, the ones in ERROR (a retry needs them) and the
  workflow's last task; D is their lowest common ancestor, so everything above D and every branch
  off the root-to-D path is finished and can never run again;
- D's subtree and ``keep`` ancestors of D are kept, and above them only the last task of each task
  spec on the path, in order: that keeps, for every live task, which specs are among its ancestors
  and the nearest of each, which is all SpiffWorkflow's ancestor walks look at (boundary-event and
  start-event joins' ``find_ancestor``, a parallel gateway's ``remove_ancestor``);
- everything else (earlier iterations, finished branches) leaves the tree, and the subprocesses of
  dropped call activities are deleted.

Every task keeps its own data and the serializer encodes data against the parent a task has when
it is written, so nothing of the live data is lost. What leaves is history: the ids and completion
times of the completed elements dropped are kept as the workflow's ``trail`` (stored with the
state), so the path a case took (:func:`path`) stays whole; the audit log has the rest.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

KEEP = 2  # finished ancestors kept above the live part
_ANCHOR_MASK = TaskState.NOT_FINISHED_MASK | TaskState.ERROR


def trail(workflow: BpmnWorkflow) -> list[list]:
    """``[completion time, element id]`` of the completed elements pruned from the tree so far."""
    if not hasattr(workflow, "trail"):
        workflow.trail = []
    return workflow.trail


def prune(workflow: BpmnWorkflow) -> None:
    """Drop the finished history above the live part of the workflow and of its running subprocesses."""
    dropped = _prune_one(workflow, workflow)
    for sub in list(workflow.subprocesses.values()):
        if sub.parent_task_id in workflow.subprocesses and not sub.completed and sub.task_tree is not None:
            dropped += _prune_one(workflow, sub)
    trail(workflow).extend([t.last_state_change, t.task_spec.bpmn_id] for t in dropped
                           if t.state == TaskState.COMPLETED and t.task_spec.bpmn_id)


def path(workflow: BpmnWorkflow, tasks) -> list[str]:
    """The ids of the elements the case has passed, in order: the trail, then ``tasks`` (the completed
    tasks still in the tree)."""
    done = [(t.last_state_change, t.task_spec.bpmn_id) for t in tasks if t.task_spec.bpmn_id]
    done += [tuple(item) for item in trail(workflow)]
    return [bpmn_id for _, bpmn_id in sorted(done, key=lambda item: item[0])]


def _prune_one(top: BpmnWorkflow, flow) -> list[Task]:
    """Prune one (sub)workflow's tree; return the tasks removed (its dropped subprocesses' included)."""
    root = flow.task_tree
    anchors = [t for t in flow.tasks.values() if t.state & _ANCHOR_MASK]
    if not anchors:  # a finished workflow keeps its tree
        return []
    if flow.last_task is not None and flow.last_task.id in flow.tasks:
        anchors.append(flow.last_task)
    line = _ancestors(anchors[0])
    index = {t.id: i for i, t in enumerate(line)}
    lowest = len(line) - 1
    for task in anchors[1:]:
        while task.id not in index:  # the root is always there
            task = task.parent
        lowest = min(lowest, index[task.id])
        if lowest == 0:
            return []
    cut = max(lowest - KEEP, 0)
    if cut <= 1:
        return []
    anchor = line[cut]
    last_of_spec: dict[str, Task] = {}
    for task in line[1:cut]:
        last_of_spec.pop(task.task_spec.name, None)
        last_of_spec[task.task_spec.name] = task
    chain = [*last_of_spec.values(), anchor]
    kept = _subtree(anchor) | {root.id} | {t.id for t in chain}
    removed = [t for tid, t in flow.tasks.items() if tid not in kept]
    if any(not t.has_state(TaskState.FINISHED_MASK) or t.has_state(TaskState.ERROR) for t in removed):
        return []  # cannot happen when the common ancestor is right; never drop live work
    dropped_subprocess_tasks = []
    for task in removed:
        if task.id in top.subprocesses:
            dropped_subprocess_tasks += top.delete_subprocess(task)
    first = line[1].id
    root._children = [chain[0].id if c == first else c for c in root._children if c == first or c in kept]
    parent = root
    for task in chain:  # root → last of each spec → anchor, in their original order
        task._parent = parent.id
        if parent is not root:
            parent._children = [task.id]
        parent = task
    for task in removed:
        del flow.tasks[task.id]
        top.event_manager.remove_task(task)
    return removed + dropped_subprocess_tasks


def _ancestors(task: Task) -> list[Task]:
    """The root down to ``task`` (iteratively: SpiffWorkflow's own ancestor walks recurse)."""
    line = []
    while task is not None:
        line.append(task)
        task = task.parent
    line.reverse()
    return line


def _subtree(task: Task) -> set:
    ids, stack = set(), [task]
    while stack:
        current = stack.pop()
        ids.add(current.id)
        stack.extend(current.children)
    return ids
