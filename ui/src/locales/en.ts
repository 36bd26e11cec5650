// English strings. Every key here must exist in zh-CN.ts (the type checks it; so does a test).
export const en = {
  app: { title: "Coalition console", signOut: "Sign out", language: "Language", node: "Node" },
  nav: {
    overview: "Overview", approvals: "Approvals", jobs: "Jobs", editor: "Job editor",
    datasets: "Datasets", partners: "Partners", models: "Model library", users: "Users & keys",
    audit: "Audit log", sectionWork: "Modelling", sectionGovern: "Governance",
  },
  common: {
    loading: "Loading…", error: "Error", save: "Save", cancel: "Cancel", approve: "Approve",
    reject: "Reject", refresh: "Refresh", name: "Name", state: "State", actions: "Actions",
    none: "Nothing here yet.", created: "Created", submit: "Submit", close: "Close",
    reason: "Reason", open: "Open", yes: "yes", no: "no", details: "Details", role: "Role",
  },
  signIn: {
    title: "Sign in", username: "Username", password: "Password", submit: "Sign in",
    failed: "Sign-in failed: {{message}}",
  },
  overview: {
    title: "Overview", health: "Node health", healthy: "Healthy", version: "Version",
    fingerprint: "Certificate fingerprint", peerAddress: "Peer address",
    partners: "Partners", reachable: "Reachable", unreachable: "Unreachable",
    unchecked: "Not checked", check: "Check now", certExpiry: "Certificate expiry",
    running: "Running jobs", daysLeft: "{{days}} days left", pending: "Pending approvals", lastCheck: "Last check",
  },
  approvals: {
    title: "Approvals (to do)", grants: "Grant requests", jobs: "Jobs waiting for approval",
    dataset: "Dataset", partner: "Partner", purpose: "Purpose", kinds: "Component kinds",
    terms: "Terms", validUntil: "Valid until", sites: "Sites and parameters",
    task: "Task", variant: "Variant", party: "Party", site: "Site", parameters: "Parameters",
    reasonRequired: "A reason is required to reject.", empty: "No approvals waiting.",
  },
  jobs: {
    title: "Jobs", new: "New job", id: "Job", initiator: "Initiator", tasks: "Tasks",
    rerun: "Rerun", cancel: "Cancel", compare: "Compare", compareTwo: "Select two jobs to compare",
    clone: "Clone", error: "Error",
  },
  editor: {
    title: "Job editor", palette: "Components", layout: "Auto-layout", undo: "Undo",
    redo: "Redo", saveDraft: "Save draft", drafts: "Drafts", loadDraft: "Load",
    validate: "Validate", example: "Example job", valid: "The job is valid.", problems: "Problems",
    yaml: "YAML", canvas: "Canvas", runAll: "Run all", runFrom: "Run from selected",
    runOnly: "Run only selected", jobName: "Job name", parties: "Parties",
    partiesHelp: "Organisations per role, comma-separated", properties: "Task",
    taskName: "Task name", component: "Component", roles: "Roles taking part",
    inputs: "Inputs", outputs: "Outputs", unwired: "(not wired)", parameters: "Parameters",
    partyParameters: "Per-party parameters (JSON)", deleteTask: "Delete task",
    addHint: "Drag a component onto the canvas, or focus it and press Enter.",
    wrongKind: "Cannot wire {{from}} to {{to}}: kinds differ.", noSelection: "Select a task.",
    sites: "Sites (party → organisation)", yamlInvalid: "YAML not applied: {{message}}",
    categories: { data: "Data", vertical: "Vertical models", horizontal: "Horizontal models",
      scoring: "Scoring & evaluation", other: "Other" },
    keyboard: "Keyboard: Tab to a task, arrows move it, Delete removes it; wire inputs in the task panel.",
  },
  monitor: {
    title: "Job monitor", tasks: "Tasks by party", logs: "Live logs", metrics: "Metrics",
    organisations: "Organisations", attempts: "Timeline", seconds: "Seconds", charts: "Charts",
    loss: "Loss", scalars: "Scalars", roc: "ROC", ks: "KS", lift: "Lift / gain", pr: "Precision–recall",
    confusion: "Confusion matrix", importance: "Feature importance", noMetrics: "No metrics yet.",
    live: "live", ended: "ended", level: "Level", message: "Message", at: "Time",
  },
  datasets: {
    title: "Datasets", register: "Register a dataset", kind: "Kind", location: "Location",
    table: "Table", idColumn: "ID column", labelColumn: "Label column", rows: "Rows",
    columns: "Columns", sharedWith: "Shared with", preview: "Masked preview", stats: "Statistics",
    share: "Share with partner", description: "Description", grants: "Grants", usage: "Usage",
  },
  partners: {
    title: "Partners", address: "Address", fingerprint: "Fingerprint", health: "Health",
    check: "Check", registered: "Registered", remoteDatasets: "Datasets shared with us", askGrant: "Ask for a grant", days: "Valid for (days)",
  },
  models: {
    title: "Model library", version: "Version", component: "Component", guest: "Guest",
    metrics: "Metrics", verify: "Verify now", verified: "Integrity verified",
    protection: "Tamper protection", protectedOn: "On (signed)", protectedOff: "Off", publish: "Publish from a job", jobId: "Job id", task: "Task",
    deploy: "Deploy", services: "Services", service: "Service", call: "Call the service",
    ids: "IDs (comma-separated)", scores: "Scores", compare: "Compare", hosts: "Host sources (JSON)", source: "Guest online source",
  },
  users: {
    title: "Users, roles and API keys", users: "Users", create: "Create user", apiKeys: "API keys",
    issue: "Issue API key", revoke: "Revoke", scopes: "Scopes (comma-separated, optional)",
    newKey: "New key (shown once): {{key}}", disabled: "Disabled", kind: "Kind", human: "person (password)", api: "API user (keys only)",
  },
  audit: {
    title: "Audit log", verify: "Check integrity", intact: "Hash chain intact",
    broken: "Hash chain broken", actor: "Actor", action: "Action", at: "Time", target: "Target",
    export: "Export",
  },
  states: {
    pending: "pending", waiting_approval: "waiting for approval", running: "running",
    succeeded: "succeeded", failed: "failed", cancelled: "cancelled", reused: "reused",
    accepted: "accepted", rejected: "rejected", approved: "approved", revoked: "revoked",
    expired: "expired",
  },
};

export type Messages = typeof en;
