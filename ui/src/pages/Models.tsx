import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { del, get, post, put, type ModelVersion, type Service } from "../api";
import { ErrorBox, Json, Page, Table } from "../ui";

export function Models() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const versions = useQuery({ queryKey: ["models"], queryFn: () => get<ModelVersion[]>("/models") });
  const services = useQuery({ queryKey: ["services"], queryFn: () => get<Service[]>("/services") });
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ["models"] });
    void client.invalidateQueries({ queryKey: ["services"] });
  };
  const [pub, setPub] = useState({ name: "", job_id: "", task: "", hosts: "{}" });
  const [dep, setDep] = useState({ name: "", model: "", source: "", hosts: "{}" });
  const [call, setCall] = useState({ service: "", ids: "" });
  const publish = useMutation({
    mutationFn: () => {
      const hosts = JSON.parse(pub.hosts) as Record<string, string>;
      return post<ModelVersion>("/models", { name: pub.name, source: { job_id: pub.job_id, task: pub.task },
        hosts: Object.fromEntries(Object.entries(hosts).map(([org, party]) =>
          [org, { job_id: pub.job_id, task: pub.task, party }])) });
    },
    onSuccess: refresh,
  });
  const verify = useMutation({ mutationFn: (v: ModelVersion) =>
    post<{ ok: boolean; sha256: string; signed: boolean }>(`/models/${v.name}/versions/${v.version}/verify`) });
  const protect = useMutation({ mutationFn: (v: ModelVersion) =>
    put(`/models/${v.name}/versions/${v.version}/protection`, { enabled: !v["protected"] }), onSuccess: refresh });
  const deploy = useMutation({
    mutationFn: () => post<Service>("/services", { name: dep.name, model: dep.model, source: dep.source || null,
      hosts: JSON.parse(dep.hosts) as Record<string, string> }),
    onSuccess: refresh,
  });
  const undeploy = useMutation({ mutationFn: (name: string) => del(`/services/${name}`), onSuccess: refresh });
  const [cmp, setCmp] = useState({ name: "", a: "1", b: "2" });
  const compare = useMutation({ mutationFn: () =>
    get<Record<string, unknown>>(`/models/${cmp.name}/compare?a=${cmp.a}&b=${cmp.b}`) });
  const predict = useMutation({ mutationFn: () => post<{ ids: string[]; scores: unknown[]; found: boolean[] }>(
    `/services/${call.service}/predict`, { ids: call.ids.split(",").map((s) => s.trim()).filter(Boolean) }) });
  return (
    <Page title={t("models.title")}>
      <ErrorBox error={versions.error ?? verify.error ?? protect.error} />
      <Table label={t("models.title")} rows={versions.data} rowKey={(v) => `${v.name}:${v.version}`} cols={[
        { key: "name", label: t("common.name") },
        { key: "version", label: t("models.version") },
        { key: "component", label: t("models.component") },
        { key: "guest", label: t("models.guest") },
        { key: "metrics", label: t("models.metrics"), render: (v) => Object.entries(v.metrics)
          .map(([k, x]) => `${k}=${typeof x === "number" ? x.toFixed(3) : String(x)}`).join(" ") },
        { key: "protected", label: t("models.protection"), render: (v) => (
          <button type="button" aria-pressed={Boolean(v["protected"])} onClick={() => protect.mutate(v)}>
            {v["protected"] ? t("models.protectedOn") : t("models.protectedOff")}</button>) },
        { key: "act", label: t("common.actions"), render: (v) => (
          <button type="button" onClick={() => verify.mutate(v)}>{t("models.verify")}</button>) },
      ]} />
      {verify.data && <p role="status" className={verify.data.ok ? "ok" : "bad"}>
        {verify.data.ok ? t("models.verified") : "✗"} · sha256 {verify.data.sha256.slice(0, 16)}…</p>}
      <div className="cards">
        <form className="card grid-form" aria-label={t("models.publish")} onSubmit={(e) => { e.preventDefault(); publish.mutate(); }}>
          <h2>{t("models.publish")}</h2>
          <label>{t("common.name")}<input name="model-name" value={pub.name} onChange={(e) => setPub({ ...pub, name: e.target.value })} /></label>
          <label>{t("models.jobId")}<input name="job-id" value={pub.job_id} onChange={(e) => setPub({ ...pub, job_id: e.target.value })} /></label>
          <label>{t("models.task")}<input name="task" value={pub.task} onChange={(e) => setPub({ ...pub, task: e.target.value })} /></label>
          <label>{t("models.hosts")}<input name="publish-hosts" value={pub.hosts} onChange={(e) => setPub({ ...pub, hosts: e.target.value })} /></label>
          <button type="submit">{t("models.publish")}</button>
          <ErrorBox error={publish.error} />
        </form>
        <form className="card grid-form" aria-label={t("models.deploy")} onSubmit={(e) => { e.preventDefault(); deploy.mutate(); }}>
          <h2>{t("models.deploy")}</h2>
          <label>{t("models.service")}<input name="service-name" value={dep.name} onChange={(e) => setDep({ ...dep, name: e.target.value })} /></label>
          <label>{t("common.name")}<input name="service-model" value={dep.model} onChange={(e) => setDep({ ...dep, model: e.target.value })} /></label>
          <label>{t("models.source")}<input name="deploy-source" value={dep.source} onChange={(e) => setDep({ ...dep, source: e.target.value })} /></label>
          <label>{t("models.hosts")}<input name="deploy-hosts" value={dep.hosts} onChange={(e) => setDep({ ...dep, hosts: e.target.value })} /></label>
          <button type="submit">{t("models.deploy")}</button>
          <ErrorBox error={deploy.error} />
        </form>
        <form className="card grid-form" aria-label={t("models.call")} onSubmit={(e) => { e.preventDefault(); predict.mutate(); }}>
          <h2>{t("models.call")}</h2>
          <label>{t("models.service")}<input name="call-service" value={call.service} onChange={(e) => setCall({ ...call, service: e.target.value })} /></label>
          <label>{t("models.ids")}<input name="call-ids" value={call.ids} onChange={(e) => setCall({ ...call, ids: e.target.value })} /></label>
          <button type="submit">{t("models.call")}</button>
          <ErrorBox error={predict.error} />
          {predict.data && <div role="status" aria-label={t("models.scores")}><Json value={predict.data} /></div>}
        </form>
      </div>
      <form className="grid-form" aria-label={t("models.compare")} onSubmit={(e) => { e.preventDefault(); compare.mutate(); }}>
        <label>{t("common.name")}<input name="compare-name" value={cmp.name} onChange={(e) => setCmp({ ...cmp, name: e.target.value })} /></label>
        <label>{t("models.version")} A<input name="compare-a" type="number" min={1} value={cmp.a} onChange={(e) => setCmp({ ...cmp, a: e.target.value })} /></label>
        <label>{t("models.version")} B<input name="compare-b" type="number" min={1} value={cmp.b} onChange={(e) => setCmp({ ...cmp, b: e.target.value })} /></label>
        <button type="submit">{t("models.compare")}</button>
      </form>
      <ErrorBox error={compare.error} />
      {compare.data && <Json value={compare.data} />}
      <h2>{t("models.services")}</h2>
      <Table label={t("models.services")} rows={services.data} rowKey={(s) => s.name} cols={[
        { key: "name", label: t("models.service") },
        { key: "model", label: t("common.name"), render: (s) => `${s.model} v${s.version}` },
        { key: "side", label: t("common.role") },
        { key: "hosts", label: "hosts", render: (s) => JSON.stringify(s.hosts) },
        { key: "act", label: t("common.actions"), render: (s) => (
          <button type="button" className="danger" onClick={() => undeploy.mutate(s.name)}>✕</button>) },
      ]} />
    </Page>
  );
}
