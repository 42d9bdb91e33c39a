// The graph of a workflow's actions, drawn from its definition: an edge for every dependency
// (dashed red for `ref.error` edges), marks for run_if, for_each, retries, scatter/gather and
// loops, laid out top to bottom by dagre. The editor draws the draft live; a run's view
// colours each action by its status.
import { memo, useMemo } from "react";
import { Background, Controls, Handle, MarkerType, Position, ReactFlow, type Edge, type Node, type NodeProps } from "@xyflow/react";
import dagre from "@dagrejs/dagre";
import "@xyflow/react/dist/style.css";

export interface ActionStatement {
  ref: string;
  action: string;
  depends_on?: string[];
  run_if?: string;
  for_each?: unknown;
  retry_policy?: { max_attempts?: number; retry_until?: string };
  join_strategy?: string;
  start_delay?: number;
  wait_until?: string;
  [key: string]: unknown;
}

interface ActionData extends Record<string, unknown> {
  statement: ActionStatement;
  status?: string;
  selected: boolean;
  invalid: boolean;
  entry: boolean;
}

const WIDTH = 200;
const HEIGHT = 64;

function marksOf(s: ActionStatement, entry: boolean): string[] {
  const marks: string[] = [];
  if (entry) marks.push("entry");
  if (s.run_if) marks.push("if");
  if (s.for_each !== undefined && s.for_each !== null) marks.push("for each");
  if (s.action === "core.transform.scatter") marks.push("scatter");
  if (s.action === "core.transform.gather") marks.push("gather");
  if (s.action === "core.loop.start" || s.action === "core.loop.end") marks.push("loop");
  if ((s.retry_policy?.max_attempts ?? 1) > 1) marks.push(`retry ×${s.retry_policy?.max_attempts}`);
  if (s.retry_policy?.retry_until) marks.push("until");
  if (s.join_strategy === "any") marks.push("any");
  if (s.start_delay || s.wait_until) marks.push("delay");
  return marks;
}

const ActionNode = memo(function ActionNode({ data }: NodeProps<Node<ActionData>>) {
  const s = data.statement;
  const classes = ["graph-node"];
  if (data.status) classes.push(`status-${data.status.toLowerCase()}`);
  if (data.selected) classes.push("selected");
  if (data.invalid) classes.push("has-error");
  const marks = marksOf(s, data.entry);
  return (
    <div className={classes.join(" ")} data-ref={s.ref} data-status={data.status?.toLowerCase()}>
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <div className="ref" title={s.ref}>
        {s.ref}
      </div>
      <div className="action" title={s.action}>
        {s.action}
      </div>
      {marks.length > 0 && (
        <div className="marks">
          {marks.map((m) => (
            <span key={m} className="tag">
              {m}
            </span>
          ))}
        </div>
      )}
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
});

const nodeTypes = { action: ActionNode };

/** Statements from a definition, tolerating anything half-written. */
export function statementsOf(definition: unknown): ActionStatement[] {
  const actions = (definition as { actions?: unknown } | null)?.actions;
  if (!Array.isArray(actions)) return [];
  return actions.filter((a): a is ActionStatement => !!a && typeof a === "object" && typeof (a as { ref?: unknown }).ref === "string").map((a) => ({
    ...a,
    action: typeof a.action === "string" ? a.action : "",
    depends_on: Array.isArray(a.depends_on) ? a.depends_on.filter((d): d is string => typeof d === "string") : [],
  }));
}

/** Nodes and edges with positions: dagre, top to bottom. */
export function layout(statements: ActionStatement[], entry: string | undefined): { nodes: Node<ActionData>[]; edges: Edge[] } {
  // Timed with the User Timing API, so the console benchmark can read what layouts cost.
  const started = performance.now();
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "TB", nodesep: 30, ranksep: 50 });
  g.setDefaultEdgeLabel(() => ({}));
  const refs = new Set(statements.map((s) => s.ref));
  for (const s of statements) g.setNode(s.ref, { width: WIDTH, height: HEIGHT });
  const edges: Edge[] = [];
  for (const s of statements) {
    for (const dep of s.depends_on ?? []) {
      const [source, kind] = dep.split(".");
      if (!refs.has(source)) continue;
      g.setEdge(source, s.ref);
      const error = kind === "error";
      edges.push({
        id: `${dep}->${s.ref}`,
        source,
        target: s.ref,
        className: error ? "edge-error" : undefined,
        animated: false,
        label: error ? "on error" : undefined,
        markerEnd: { type: MarkerType.ArrowClosed },
      });
    }
  }
  dagre.layout(g);
  const nodes: Node<ActionData>[] = statements.map((s) => {
    const p = g.node(s.ref);
    return {
      id: s.ref,
      type: "action",
      position: { x: (p?.x ?? 0) - WIDTH / 2, y: (p?.y ?? 0) - HEIGHT / 2 },
      data: { statement: s, selected: false, invalid: false, entry: s.ref === entry },
      draggable: false,
      connectable: false,
    };
  });
  performance.measure("ferrocat:graph-layout", { start: started, detail: { actions: statements.length } });
  return { nodes, edges };
}

/** Beyond this many actions only the nodes in view are drawn. */
const DRAW_ALL_UP_TO = 300;

/** Memoised: the editor re-renders on every keystroke, the graph only when its inputs change. */
export const WorkflowGraph = memo(function WorkflowGraph({
  definition,
  statuses,
  selected,
  invalid,
  onSelect,
  label,
}: {
  definition: unknown;
  statuses?: Map<string, string>;
  selected?: string;
  invalid?: Set<string>;
  onSelect?: (ref: string) => void;
  label: string;
}) {
  const entry = (definition as { entrypoint?: { ref?: string } } | null)?.entrypoint?.ref;
  // Typing in an action's args changes the definition but not the graph: lay it out again only
  // when what the graph shows changes.
  const parsed = useMemo(() => statementsOf(definition), [definition]);
  const shape = useMemo(() => JSON.stringify([entry, parsed.map((s) => [s.ref, s.action, s.depends_on, marksOf(s, false)])]), [entry, parsed]);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const statements = useMemo(() => parsed, [shape]);
  const base = useMemo(() => layout(statements, entry), [statements, entry]);
  const nodes = useMemo(
    () =>
      base.nodes.map((n) => ({
        ...n,
        data: { ...n.data, status: statuses?.get(n.id), selected: n.id === selected, invalid: invalid?.has(n.id) ?? false },
      })),
    [base, statuses, selected, invalid],
  );
  if (statements.length === 0) {
    return (
      <div className="graph-host graph-empty" aria-label={label}>
        <p className="muted">No actions yet: add one under <code>actions:</code> and it appears here.</p>
      </div>
    );
  }
  return (
    <div className="graph-host" aria-label={label} role="figure">
      <ReactFlow
        nodes={nodes}
        edges={base.edges}
        nodeTypes={nodeTypes}
        fitView
        minZoom={0.1}
        nodesDraggable={false}
        nodesConnectable={false}
        onlyRenderVisibleElements={nodes.length > DRAW_ALL_UP_TO}
        onNodeClick={(_, node) => onSelect?.(node.id)}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
});
