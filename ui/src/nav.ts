// The console's sections. Screens for features other issues add (PSI/PIR services, feature
// engineering reports, the ledger) slot in as one entry here and one route in App.tsx.
export interface NavItem {
  path: string;
  label: string; // i18n key
  permission?: string; // shown only to callers who hold it
}

export interface NavSection {
  label: string;
  items: NavItem[];
}

export const NAV: NavSection[] = [
  {
    label: "nav.sectionWork",
    items: [
      { path: "/", label: "nav.overview" },
      { path: "/approvals", label: "nav.approvals" },
      { path: "/jobs", label: "nav.jobs", permission: "jobs.read" },
      { path: "/editor", label: "nav.editor", permission: "jobs.submit" },
      { path: "/datasets", label: "nav.datasets", permission: "datasets.read" },
      { path: "/psi", label: "nav.psi", permission: "jobs.read" },
      { path: "/lookups", label: "nav.lookups", permission: "services.read" },
      { path: "/models", label: "nav.models", permission: "models.read" },
    ],
  },
  {
    label: "nav.sectionGovern",
    items: [
      { path: "/partners", label: "nav.partners", permission: "partners.read" },
      { path: "/users", label: "nav.users", permission: "users.read" },
      { path: "/audit", label: "nav.audit", permission: "audit.read" },
      { path: "/ledger", label: "nav.ledger", permission: "audit.read" },
    ],
  },
];
