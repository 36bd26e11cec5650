// A starting point for people new to the console: the demo's credit-risk job across its three
// nodes (`make demo` registers these datasets at the bank and the telco and grants the bank's
// jobs; the car maker is the SS-LR arbiter, dealing Beaver triples and seeing no data).
import type { DagDoc } from "./dag";

export const CREDIT_DEMO: DagDoc = {
  version: 1,
  name: "credit_risk",
  parties: { guest: ["bank"], host: ["telco"], arbiter: ["carmaker"] },
  tasks: {
    reader: {
      component: "reader",
      parameters: { id_column: "phone" },
      role_parameters: { guest: { label_column: "default" } },
      party_parameters: { "guest:bank": { path: "bank_customers" }, "host:telco": { path: "telco_subscribers" } },
    },
    psi: { component: "psi", inputs: { data: "reader.data" } },
    data_split: { component: "data_split", parameters: { test_size: 0.3 }, inputs: { data: "psi.data" } },
    hetero_secureboost: {
      component: "hetero_secureboost",
      parameters: { num_trees: 3, max_depth: 3 },
      inputs: { train_data: "data_split.train" },
    },
    predict: { component: "predict", inputs: { model: "hetero_secureboost.model", data: "data_split.test" } },
    evaluate: { component: "evaluate", inputs: { data: "predict.predictions" } },
    lr: {
      component: "hetero_lr",
      parameters: { protocol: "ss", epochs: 5, batch_size: 256 },
      inputs: { train_data: "data_split.train" },
    },
    lr_predict: { component: "predict", inputs: { model: "lr.model", data: "data_split.test" } },
    lr_evaluate: { component: "evaluate", inputs: { data: "lr_predict.predictions" } },
  },
};

// --- Job templates served by the node (GET /templates, issue 26) -------------------------------

export interface TemplateInfo {
  name: string; title: string; question: string; parties: Record<string, string>;
  who_learns_what: string; roles: Record<string, string[]>; tasks: string[]; doc: string;
  dag?: DagDoc | null; dag_yaml?: string | null;
}

/** The template's organisations in role order (guest first), each with its role. */
export function templateOrganisations(info: Pick<TemplateInfo, "roles">): { org: string; role: string }[] {
  const order = ["guest", "host", "arbiter"];
  const roles = Object.keys(info.roles).sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
  return roles.flatMap((role) => (info.roles[role] ?? []).map((org) => ({ org, role })));
}

/** The first guess of who plays each template organisation: this node for the first guest,
 * a partner or this node of the same name, else nobody ("" — the dialog asks). */
export function guessOrganisations(info: Pick<TemplateInfo, "roles">, self: string, partners: string[]): Record<string, string> {
  const known = new Set([self, ...partners]);
  const out: Record<string, string> = {};
  for (const [i, { org }] of templateOrganisations(info).entries()) {
    out[org] = i === 0 ? self : known.has(org) ? org : "";
  }
  return out;
}

/** Problems of a mapping before it is applied: an organisation left unchosen, or one chosen
 * for two template organisations. */
export function mappingProblems(mapping: Record<string, string>): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const [from, to] of Object.entries(mapping)) {
    if (!to.trim()) problems.push(`${from}: no organisation chosen`);
    else if (seen.has(to)) problems.push(`${seen.get(to)} and ${from} both mapped to ${to}`);
    else seen.set(to, from);
  }
  return problems;
}

/** The template's document with its organisations replaced by the chosen ones (``parties`` and
 * every ``party_parameters`` key ``role:org``) and, where ``datasets`` names one for a template
 * organisation, each reader's ``path`` of that party set to the dataset registered there. */
export function applyTemplate(doc: DagDoc, mapping: Record<string, string>, datasets: Record<string, string> = {}): DagDoc {
  const rename = (org: string) => mapping[org]?.trim() || org;
  const parties = Object.fromEntries(Object.entries(doc.parties).map(([role, orgs]) => [role, orgs.map(rename)]));
  const tasks = Object.fromEntries(Object.entries(doc.tasks).map(([name, task]) => {
    if (!task.party_parameters) return [name, task];
    const party_parameters = Object.fromEntries(Object.entries(task.party_parameters).map(([key, params]) => {
      const at = key.indexOf(":");
      const [role, org] = at < 0 ? [key, ""] : [key.slice(0, at), key.slice(at + 1)];
      const dataset = datasets[org]?.trim();
      const next = task.component === "reader" && dataset && "path" in params ? { ...params, path: dataset } : params;
      return [org ? `${role}:${rename(org)}` : key, next];
    }));
    return [name, { ...task, party_parameters }];
  }));
  return { ...doc, parties, tasks };
}
