import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { get, post, type Grant, type Job } from "../api";
import { ErrorBox, Json, Page, StateBadge, when } from "../ui";

function JobReview({ id }: { id: string }) {
  const { t } = useTranslation();
  const job = useQuery({ queryKey: ["job", id], queryFn: () => get<Job>(`/jobs/${id}`) });
  if (!job.data) return <ErrorBox error={job.error} />;
  return (
    <table aria-label={t("approvals.sites")}>
      <thead><tr><th>{t("approvals.task")}</th><th>{t("approvals.variant")}</th>
        <th>{t("approvals.party")}</th><th>{t("approvals.site")}</th><th>{t("approvals.parameters")}</th></tr></thead>
      <tbody>
        {(job.data.review ?? []).flatMap((task) => task.parties.map((p) => (
          <tr key={task.task + p.party}>
            <td>{task.task}</td><td>{task.variant}</td><td>{p.party}</td><td>{p.site}</td>
            <td><Json value={p.parameters} /></td>
          </tr>)))}
      </tbody>
    </table>
  );
}

export function Approvals() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [reason, setReason] = useState<Record<string, string>>({});
  const grants = useQuery({ queryKey: ["approvals"], queryFn: () => get<Grant[]>("/approvals") });
  const jobs = useQuery({ queryKey: ["jobs"], queryFn: () => get<Job[]>("/jobs") });
  const decide = useMutation({
    mutationFn: ({ path, why }: { path: string; why: string }) => post(path, { reason: why }),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: ["approvals"] });
      void client.invalidateQueries({ queryKey: ["jobs"] });
    },
  });
  const waiting = (jobs.data ?? []).filter((j) => j.state === "waiting_approval"
    || j.organisations.some((o) => o.status === "waiting_approval"));
  const buttons = (key: string, base: string) => (
    <div className="row">
      <label>{t("common.reason")} <input aria-label={`${t("common.reason")} ${key}`} value={reason[key] ?? ""}
        onChange={(e) => setReason({ ...reason, [key]: e.target.value })} /></label>
      <button type="button" onClick={() => decide.mutate({ path: `${base}/approve`, why: reason[key] ?? "" })}>
        {t("common.approve")}</button>
      <button type="button" className="danger" disabled={!reason[key]}
        title={t("approvals.reasonRequired")}
        onClick={() => decide.mutate({ path: `${base}/reject`, why: reason[key] ?? "" })}>{t("common.reject")}</button>
    </div>
  );
  return (
    <Page title={t("approvals.title")}>
      <ErrorBox error={decide.error ?? grants.error} />
      <h2>{t("approvals.grants")}</h2>
      {grants.data?.length === 0 && <p className="muted">{t("approvals.empty")}</p>}
      {grants.data?.map((g) => (
        <article key={g.id} className="card wide" aria-label={`grant ${g.id}`}>
          <h3>#{g.id} · {g.partner} → {g.dataset} <StateBadge state={g.status} /></h3>
          <dl>
            <dt>{t("approvals.purpose")}</dt><dd>{g.purpose || "—"}</dd>
            <dt>{t("approvals.kinds")}</dt><dd>{g.component_kinds.join(", ")}</dd>
            <dt>{t("approvals.terms")}</dt><dd><Json value={g.terms} /></dd>
            <dt>{t("approvals.validUntil")}</dt><dd>{when(g.valid_until)}</dd>
          </dl>
          {buttons(`grant-${g.id}`, `/grants/${g.id}`)}
        </article>
      ))}
      <h2>{t("approvals.jobs")}</h2>
      {waiting.length === 0 && <p className="muted">{t("approvals.empty")}</p>}
      {waiting.map((j) => (
        <article key={j.id} className="card wide" aria-label={`job ${j.id}`}>
          <h3>{j.name} · {j.id} · {t("jobs.initiator")}: {j.initiator} <StateBadge state={j.state} /></h3>
          <JobReview id={j.id} />
          {buttons(`job-${j.id}`, `/jobs/${j.id}`)}
        </article>
      ))}
    </Page>
  );
}
