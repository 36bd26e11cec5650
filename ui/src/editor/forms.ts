// Parameter forms from the node's JSON Schemas (pydantic's), and the server's field errors
// mapped back onto them. Pure functions; the form itself is @rjsf.
import type { ComponentInfo, DagProblem } from "../api";

export type JsonSchema = Record<string, unknown>;

export interface FormSpec {
  schema: JsonSchema;
  uiSchema: Record<string, unknown>;
  optional: string[]; // fields whose unset value is null: an empty answer leaves them out
}

/** pydantic writes `x: T | None` as anyOf [T, null]; a form field wants T (empty = unset). */
export function optionalAsPlain(prop: JsonSchema): JsonSchema {
  const any = prop["anyOf"];
  if (!Array.isArray(any) || any.length !== 2) return prop;
  const others = (any as JsonSchema[]).filter((s) => s["type"] !== "null");
  if (others.length !== 1) return prop;
  const { anyOf: _, ...rest } = prop;
  const plain: JsonSchema = { ...others[0], ...rest };
  if (plain["default"] === null) delete plain["default"];
  return plain;
}

/** The rjsf schema and uiSchema of a component's shared parameters. */
export function formFor(component: ComponentInfo): FormSpec {
  const schema: JsonSchema = { ...component.parameters };
  delete schema["title"];
  const raw = (schema["properties"] ?? {}) as Record<string, JsonSchema>;
  const props = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, optionalAsPlain(v)]));
  schema["properties"] = props;
  const optional = Object.keys(raw).filter((k) => raw[k] !== props[k]);
  const uiSchema: Record<string, unknown> = { "ui:order": [...Object.keys(props), "*"],
    "ui:submitButtonOptions": { norender: true } };
  for (const [name, prop] of Object.entries(props)) {
    // rjsf shows each field's schema "description" itself; booleans as checkboxes.
    if (prop["type"] === "boolean") uiSchema[name] = { "ui:widget": "checkbox" };
  }
  return { schema, uiSchema, optional };
}

export interface ErrorNode { __errors?: string[]; [field: string]: ErrorNode | string[] | undefined }

/** The validator's problems of one task as an rjsf ErrorSchema (parameters.<field>, also
 *  role_parameters.<role>.<field> and party_parameters.<party>.<field>, shown on the field). */
export function errorSchemaFor(problems: DagProblem[], task: string): ErrorNode {
  const out: ErrorNode = {};
  for (const p of problems) {
    if (p.task !== task) continue;
    const parts = p.path.split(".").slice(2); // drop "tasks.<task>"
    let field: string | undefined;
    if (parts[0] === "parameters") field = parts[1];
    else if (parts[0] === "role_parameters" || parts[0] === "party_parameters") field = parts[2];
    if (!field) continue;
    const node = (out[field] as ErrorNode | undefined) ?? {};
    node.__errors = [...(node.__errors ?? []), p.message];
    out[field] = node;
  }
  return out;
}

/** Problems that do not sit on a parameter field (wiring, roles, cycles, the document). */
export function otherProblems(problems: DagProblem[]): DagProblem[] {
  return problems.filter((p) => !/^tasks\.[^.]+\.(parameters|role_parameters\.[^.]+|party_parameters\.[^.]+)\.[^.]+/.test(p.path));
}

/** Drop values equal to the schema's default, so the document stays as short as the user wrote it. */
export function withoutDefaults(schema: JsonSchema, values: Record<string, unknown>,
  optional: string[] = []): Record<string, unknown> {
  const props = (schema["properties"] ?? {}) as Record<string, JsonSchema>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    const empty = v === null || v === "" || (Array.isArray(v) && v.length === 0);
    if (empty && optional.includes(k)) continue;
    const prop = props[k];
    if (prop && "default" in prop && JSON.stringify(prop["default"]) === JSON.stringify(v)) continue;
    out[k] = v;
  }
  return out;
}
