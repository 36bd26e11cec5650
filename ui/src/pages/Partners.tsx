import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { get, post, type Health, type Partner } from "../api";
import { ErrorBox, Json, Page, Table, when } from "../ui";

export function Partners() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const partners = useQuery({ queryKey: ["partners"], queryFn: () => get<Partner[]>("/partners") });
  const check = useMutation({
    mutationFn: (name: string) => post<Health>(`/partners/${name}/health`),
    onSettled: () => client.invalidateQueries({ queryKey: ["partners"] }),
  });
  return (
    <Page title={t("partners.title")}>
      <ErrorBox error={partners.error ?? check.error} />
      <Table label={t("partners.title")} rows={partners.data} rowKey={(p) => p.name} cols={[
        { key: "name", label: t("common.name") },
        { key: "address", label: t("partners.address") },
        { key: "fp", label: t("partners.fingerprint"), render: (p) => <span className="mono">{p.fingerprint.slice(0, 23)}…</span> },
        { key: "health", label: t("partners.health"), render: (p) =>
          p.last_health_ok === null ? "—" : p.last_health_ok ? "✓" : "✗" },
        { key: "at", label: t("partners.registered"), render: (p) => when(p.created_at) },
        { key: "act", label: t("common.actions"), render: (p) => (
          <button type="button" onClick={() => check.mutate(p.name)}>{t("partners.check")}</button>) },
      ]} />
      {check.data && <Json value={check.data} />}
    </Page>
  );
}
