// Metric charts with ECharts (tree-shaken core): loss curves per step, final scalars, and —
// from the evaluation report where the node serves one — ROC, KS, lift/gain, PR, confusion
// matrix and feature importance.
import { useEffect, useMemo, useRef, useState } from "react";
import * as echarts from "echarts/core";
import { BarChart, HeatmapChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, TitleComponent, TooltipComponent, VisualMapComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { get, type MetricPoint } from "../api";

echarts.use([BarChart, HeatmapChart, LineChart, GridComponent, LegendComponent, TitleComponent,
  TooltipComponent, VisualMapComponent, CanvasRenderer]);

type Option = echarts.EChartsCoreOption;

function Chart({ option, label }: { option: Option; label: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current);
    chart.setOption({ animation: false, ...option }); // metrics, not a show: drawn at once
    const resize = () => chart.resize();
    window.addEventListener("resize", resize);
    return () => { window.removeEventListener("resize", resize); chart.dispose(); };
  }, [option]);
  return <figure className="chart" aria-label={label}><figcaption>{label}</figcaption><div ref={el} style={{ height: 260 }} /></figure>;
}

export interface Report {
  task: string;
  party: string;
  report: Record<string, unknown>;
}

const CHARTED = new Set(["roc", "ks_curve", "lift_gain", "pr", "confusion_matrix", "feature_importance"]);

/** Report entries without a chart (statistics, IV/WOE tables, scalars) as tables. */
function ReportTables({ reports }: { reports: Report[] }) {
  const rows = reports.flatMap((r) => Object.entries(r.report).filter(([k]) => !CHARTED.has(k))
    .map(([k, v]) => ({ id: `${r.task}.${r.party}.${k}`, task: r.task, key: k, value: v })));
  if (!rows.length) return null;
  const cell = (v: unknown) => typeof v === "number" ? v.toFixed(4) : typeof v === "object" ? JSON.stringify(v) : String(v);
  return (
    <table aria-label="report">
      <tbody>{rows.map((r) => (
        <tr key={r.id}><th scope="row">{r.task} · {r.key}</th>
          <td>{Array.isArray(r.value) && r.value.length && typeof r.value[0] === "object"
            ? <table><thead><tr>{Object.keys(r.value[0] as object).map((c) => <th key={c}>{c}</th>)}</tr></thead>
                <tbody>{(r.value as Record<string, unknown>[]).slice(0, 50).map((row, i) => (
                  <tr key={i}>{Object.values(row).map((v, j) => <td key={j}>{cell(v)}</td>)}</tr>))}</tbody></table>
            : <span className="mono small">{cell(r.value)}</span>}</td></tr>))}
      </tbody>
    </table>
  );
}

const line = (title: string, x: number[], ys: Record<string, number[]>, xName = "", yName = "", unit = false): Option => ({
  title: { text: title, left: "center", textStyle: { fontSize: 13 } }, tooltip: { trigger: "axis" },
  legend: { bottom: 0 }, grid: { left: 50, right: 20, top: 30, bottom: 50 },
  xAxis: { type: "value", name: xName, min: unit ? 0 : "dataMin", max: unit ? 1 : "dataMax" },
  yAxis: { type: "value", name: yName, ...(unit ? { min: 0, max: 1 } : {}) },
  series: Object.entries(ys).map(([name, y]) => ({ name, type: "line", showSymbol: false, data: x.map((v, i) => [v, y[i]]) })),
});

function reportCharts(r: Report, t: (k: string) => string): [string, Option][] {
  const out: [string, Option][] = [];
  const rep = r.report;
  const roc = rep["roc"] as { fpr: number[]; tpr: number[] } | undefined;
  if (roc) out.push([`${t("monitor.roc")} · ${r.task}`, line("", roc.fpr, { TPR: roc.tpr }, "FPR", "TPR", true)]);
  const ks = rep["ks_curve"] as { thresholds: number[]; tpr: number[]; fpr: number[]; ks: number[] } | undefined;
  if (ks) {
    const x = ks.thresholds.map((v) => Math.max(0, Math.min(Number.isFinite(v) ? v : 1, 1)));
    out.push([`${t("monitor.ks")} · ${r.task}`, line("", x, { TPR: ks.tpr, FPR: ks.fpr, KS: ks.ks }, "threshold", "", true)]);
  }
  const lift = rep["lift_gain"] as Record<string, number>[] | undefined;
  if (lift?.length) {
    const x = lift.map((_, i) => i + 1);
    out.push([`${t("monitor.lift")} · ${r.task}`, line("", x, { lift: lift.map((b) => b["lift"] ?? 0),
      cumulative_gain: lift.map((b) => b["cumulative_gain"] ?? b["gain"] ?? 0) }, "bucket")]);
  }
  const pr = rep["pr"] as { precision: number[]; recall: number[] } | undefined;
  if (pr) out.push([`${t("monitor.pr")} · ${r.task}`, line("", pr.recall, { precision: pr.precision }, "recall", "precision", true)]);
  const cm = rep["confusion_matrix"] as number[][] | undefined;
  if (cm) {
    const data = cm.flatMap((row, i) => row.map((v, j) => [j, i, v]));
    out.push([`${t("monitor.confusion")} · ${r.task}`, {
      tooltip: {}, grid: { left: 60, right: 20, top: 20, bottom: 40 },
      xAxis: { type: "category", data: cm.map((_, i) => `pred ${i}`) }, yAxis: { type: "category", data: cm.map((_, i) => `true ${i}`) },
      visualMap: { min: 0, max: Math.max(...data.map((d) => d[2] ?? 0)), show: false },
      series: [{ type: "heatmap", data, label: { show: true } }] }]);
  }
  const imp = rep["feature_importance"] as Record<string, number> | undefined;
  if (imp) {
    const items = Object.entries(imp).sort((a, b) => a[1] - b[1]).slice(-20);
    out.push([`${t("monitor.importance")} · ${r.task}`, { tooltip: {}, grid: { left: 120, right: 20, top: 10, bottom: 30 },
      xAxis: { type: "value" }, yAxis: { type: "category", data: items.map((i) => i[0]) },
      series: [{ type: "bar", data: items.map((i) => i[1]) }] }]);
  }
  return out;
}

export default function Charts({ points: live, jobId, state }: { points: MetricPoint[]; jobId: string; state: string }) {
  const { t } = useTranslation();
  const stored = useQuery({ queryKey: ["metrics", jobId, state], queryFn: () => get<MetricPoint[]>(`/jobs/${jobId}/metrics`), refetchInterval: 5000 });
  const reports = useQuery({ queryKey: ["reports", jobId, state], queryFn: () => get<Report[]>(`/jobs/${jobId}/reports`), refetchInterval: 10000, retry: false });
  const [tab, setTab] = useState<"curves" | "scalars" | "reports">("curves");
  const points = useMemo(() => {
    const byId = new Map<number, MetricPoint>();
    for (const p of [...(stored.data ?? []), ...live]) byId.set(p.id, p);
    return [...byId.values()].sort((a, b) => a.id - b.id);
  }, [stored.data, live]);
  const series = useMemo(() => {
    const m = new Map<string, MetricPoint[]>();
    for (const p of points) if (p.step !== null) {
      const k = `${p.task} · ${p.name}`;
      m.set(k, [...(m.get(k) ?? []), p]);
    }
    return m;
  }, [points]);
  const scalars = points.filter((p) => p.step === null);
  const reportList = (reports.data ?? []).flatMap((r) => reportCharts(r, t));
  return (
    <div>
      <div role="tablist" aria-label={t("monitor.charts")} className="tabs">
        {(["curves", "scalars", "reports"] as const).map((k) => (
          <button key={k} role="tab" type="button" aria-selected={tab === k} onClick={() => setTab(k)}>
            {k === "curves" ? t("monitor.loss") : k === "scalars" ? t("monitor.scalars") : `${t("monitor.roc")} / ${t("monitor.ks")} / ${t("monitor.lift")}`}
          </button>))}
      </div>
      {points.length === 0 && reportList.length === 0 && <p className="muted">{t("monitor.noMetrics")}</p>}
      {tab === "curves" && <div className="charts">
        {[...series.entries()].map(([k, ps]) => (
          <Chart key={k} label={k} option={line("", ps.map((p) => p.step ?? 0), { [ps[0]?.name ?? k]: ps.map((p) => p.value) }, "step")} />))}
      </div>}
      {tab === "scalars" && <table aria-label={t("monitor.scalars")}>
        <thead><tr><th>{t("approvals.task")}</th><th>{t("approvals.party")}</th><th>{t("common.name")}</th><th>value</th></tr></thead>
        <tbody>{scalars.map((p) => <tr key={p.id}><td>{p.task}</td><td>{p.party}</td><td>{p.name}</td><td>{p.value.toFixed(4)}</td></tr>)}</tbody>
      </table>}
      {tab === "reports" && <>
        <div className="charts">
          {reportList.map(([label, option]) => <Chart key={label} label={label} option={option} />)}
        </div>
        <ReportTables reports={reports.data ?? []} />
      </>}
    </div>
  );
}
