// "Load template": pick one of the node's job templates (GET /templates), choose which
// organisation plays each of its parties and which registered dataset each reader reads, and
// put the result on the canvas (issue 26).
import { useEffect, useMemo, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { get, type NodeInfo, type Partner } from "../api";
import { ErrorBox } from "../ui";
import type { DagDoc } from "./dag";
import { applyTemplate, guessOrganisations, mappingProblems, templateOrganisations, type TemplateInfo } from "./templates";

/** Each template organisation's reader ``path`` (the template's sample file). */
function readerPaths(doc: DagDoc): Record<string, string> {
  const out: Record<string, string> = {};
  for (const task of Object.values(doc.tasks)) {
    if (task.component !== "reader") continue;
    for (const [key, params] of Object.entries(task.party_parameters ?? {})) {
      const org = key.slice(key.indexOf(":") + 1);
      if (typeof params["path"] === "string") out[org] = params["path"];
    }
  }
  return out;
}

export function TemplateDialog({ onLoad, onClose }: { onLoad: (doc: DagDoc) => void; onClose: () => void }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const list = useQuery({ queryKey: ["templates"], queryFn: () => get<TemplateInfo[]>("/templates") });
  const node = useQuery({ queryKey: ["node"], queryFn: () => get<NodeInfo>("/node") });
  const partners = useQuery({ queryKey: ["partners"], queryFn: () => get<Partner[]>("/partners") });
  const [name, setName] = useState("");
  const chosen = useQuery({ queryKey: ["templates", name], enabled: Boolean(name),
    queryFn: () => get<TemplateInfo>(`/templates/${name}`) });
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [datasets, setDatasets] = useState<Record<string, string>>({});
  const self = node.data?.name ?? "";
  const others = useMemo(() => (partners.data ?? []).map((p) => p.name), [partners.data]);
  const paths = useMemo(() => (chosen.data?.dag ? readerPaths(chosen.data.dag) : {}), [chosen.data]);

  useEffect(() => { ref.current?.showModal(); }, []);
  useEffect(() => {
    if (!chosen.data) return;
    setMapping(guessOrganisations(chosen.data, self, others));
    setDatasets({});
  }, [chosen.data, self, others]);

  const problems = chosen.data ? mappingProblems(mapping) : [];
  const orgs = chosen.data ? templateOrganisations(chosen.data) : [];
  const load = () => {
    if (!chosen.data?.dag || problems.length) return;
    const picked = Object.fromEntries(Object.entries(datasets).filter(([, v]) => v.trim()));
    onLoad(applyTemplate(chosen.data.dag, mapping, picked));
  };
  return (
    <dialog ref={ref} className="template-dialog" aria-labelledby="template-title" onClose={onClose}>
      <h2 id="template-title">{t("templates.title")}</h2>
      <ErrorBox error={list.error ?? chosen.error} />
      <label>{t("templates.template")}
        <select name="template" value={name} onChange={(e) => setName(e.target.value)}>
          <option value="">{t("templates.choose")}</option>
          {(list.data ?? []).map((x) => <option key={x.name} value={x.name}>{x.title}</option>)}
        </select>
      </label>
      {chosen.data && (<>
        <p>{chosen.data.question}</p>
        <p className="muted small">{t("templates.learns")}: {chosen.data.who_learns_what}</p>
        <h3>{t("templates.parties")}</h3>
        <p className="muted small">{t("templates.partiesHelp")}</p>
        <table aria-label={t("templates.parties")}>
          <thead><tr><th>{t("templates.templateParty")}</th><th>{t("templates.organisation")}</th><th>{t("templates.dataset")}</th></tr></thead>
          <tbody>
            {orgs.map(({ org, role }) => (
              <tr key={org}>
                <td><strong>{org}</strong> ({role})<div className="muted small">{chosen.data.parties[org] ?? ""}</div></td>
                <td><select aria-label={t("templates.organisationFor", { org })} value={mapping[org] ?? ""}
                  onChange={(e) => setMapping({ ...mapping, [org]: e.target.value })}>
                  <option value="">—</option>
                  {[self, ...others].filter(Boolean).map((o) => <option key={o} value={o}>{o === self ? `${o} (${t("templates.thisNode")})` : o}</option>)}
                </select></td>
                <td>{org in paths ? (
                  <input aria-label={t("templates.datasetFor", { org })} placeholder={paths[org]} value={datasets[org] ?? ""}
                    onChange={(e) => setDatasets({ ...datasets, [org]: e.target.value })} />) : "—"}</td>
              </tr>))}
          </tbody>
        </table>
        {problems.length > 0 && <ul className="error small">{problems.map((p) => <li key={p}>{p}</li>)}</ul>}
      </>)}
      <div className="row">
        <button type="button" className="primary" disabled={!chosen.data?.dag || problems.length > 0} onClick={load}>{t("templates.load")}</button>
        <button type="button" onClick={() => ref.current?.close()}>{t("common.cancel")}</button>
      </div>
    </dialog>
  );
}
