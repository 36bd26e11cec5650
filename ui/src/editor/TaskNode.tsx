// One task on the canvas: typed input handles on the left, outputs on the right.
import { Handle, Position, type NodeProps, type Node } from "@xyflow/react";
import type { ComponentInfo } from "../api";

export type TaskNodeData = { task: string; component: string; info: ComponentInfo | undefined; problems: number };
export type TaskFlowNode = Node<TaskNodeData, "task">;

export function TaskNode({ data, selected }: NodeProps<TaskFlowNode>) {
  const inputs = Object.entries(data.info?.inputs ?? {});
  const outputs = Object.entries(data.info?.outputs ?? {});
  const rows = Math.max(inputs.length, outputs.length, 1);
  return (
    <div className={`task-node${selected ? " selected" : ""}${data.problems ? " has-problems" : ""}`}
      style={{ minHeight: 48 + rows * 18 }} aria-label={`task ${data.task} (${data.component})`}>
      <div className="task-title">{data.task}</div>
      <div className="task-comp">{data.component}{data.problems ? ` · ⚠ ${data.problems}` : ""}</div>
      {inputs.map(([name, port], i) => (
        <div key={`in-${name}`} className="port port-in" style={{ top: 46 + i * 18 }}>
          <Handle type="target" position={Position.Left} id={name} className={`kind-${port.kind}`}
            title={`${name}: ${port.kind}`} />
          <span>{name}</span>
        </div>
      ))}
      {outputs.map(([name, port], i) => (
        <div key={`out-${name}`} className="port port-out" style={{ top: 46 + i * 18 }}>
          <span>{name}</span>
          <Handle type="source" position={Position.Right} id={name} className={`kind-${port.kind}`}
            title={`${name}: ${port.kind}`} />
        </div>
      ))}
    </div>
  );
}
