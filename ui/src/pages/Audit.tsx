import { useMutation, useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { get, type AuditEvent } from "../api";
import { ErrorBox, Page, Table, when } from "../ui";

interface Verification { ok: boolean; checked: number; head: string; first_bad: number | null; reason: string }

export function Audit() {
  const { t } = useTranslation();
  const events = useQuery({ queryKey: ["audit"], queryFn: async () =>
    (await get<AuditEvent[]>("/audit/events?limit=1000")).reverse() });
  const verify = useMutation({ mutationFn: () => get<Verification>("/audit/verify") });
  return (
    <Page title={t("audit.title")} actions={
      <button type="button" onClick={() => verify.mutate()}>{t("audit.verify")}</button>}>
      <ErrorBox error={events.error ?? verify.error} />
      {verify.data && (
        <p role="status" className={verify.data.ok ? "ok" : "bad"}>
          {verify.data.ok ? t("audit.intact") : t("audit.broken")} · {verify.data.checked} · {verify.data.reason}
        </p>)}
      <Table label={t("audit.title")} rows={events.data} rowKey={(e) => String(e["seq"])} cols={[
        { key: "seq", label: "#" },
        { key: "at", label: t("audit.at"), render: (e) => when(e.at) },
        { key: "actor", label: t("audit.actor") },
        { key: "kind", label: t("audit.action") },
        { key: "subject", label: t("audit.target") },
      ]} />
    </Page>
  );
}
