"""The web console end to end, in Debian's Chromium against the demo's three node processes.

First the "done when" of issue 21, what a newcomer does after ``make demo``: sign in at the
bank with the printed credentials, load the example job (the demo's 9 tasks across the bank,
the telco and the car maker), run it, watch every task finish and open a chart.

Then one journey a person would take (each step needs the one before: the grant lets the job run,
the job makes the model): approve the partner's grant in the telco's inbox, register a dataset
at the bank, build PSI -> split -> SecureBoost -> predict -> evaluate by drag and drop, run it
and watch it finish, open the ROC chart, publish, deploy and call the model, check the audit
trail; along the way, each party's state in the monitor, the dataset's usage, cloning the job
from the job list and a PSI task run from its screen. Then the language switch and the editor
by keyboard alone. Screenshots go to ``tests/console/artifacts/``.
"""

from __future__ import annotations

import re
import time

import pandas as pd
import pytest
from consolekit import World, english, shot, sign_in
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = pytest.mark.slow


def _add(page: Page, component: str, x: int, y: int) -> None:
    """Drag ``component`` from the palette onto the canvas at (x, y)."""
    page.locator(f'.palette-item[data-component="{component}"]').drag_to(
        page.locator(".react-flow__pane"), target_position={"x": x, "y": y})
    expect(page.locator(".inspector strong")).to_have_text(component)


def _wire(page: Page, input_name: str, ref: str) -> None:
    page.get_by_label(f"Inputs {input_name}", exact=True).select_option(ref)


def _select(page: Page, task: str) -> None:
    page.locator(f'.react-flow__node[data-id="{task}"]').click()
    expect(page.locator('.inspector input[name="task-name"]')).to_have_value(task)


def _json(page: Page, label: str, text: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Tab")  # applied on blur


def test_demo_journey(world: World, context: BrowserContext) -> None:
    english(context)
    bank = world.cluster["bank"]
    page = context.new_page()
    sign_in(page, bank.url, bank.admin_password)  # what `make demo` prints for the bank
    expect(page.get_by_role("table", name="Partners")).to_contain_text("carmaker")
    shot(page, "demo-overview")
    page.get_by_role("link", name="Open the example job").click()  # the overview's first steps
    expect(page.locator(".react-flow__node")).to_have_count(9)
    shot(page, "demo-editor")
    page.get_by_role("button", name="Run all").click()
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f]{16}$"))
    # Partners consent on their own nodes from their records: the telco under its grant, the
    # car maker (the SS-LR arbiter, no data) at once; no one has to click anything there.
    expect(page.locator(".page-actions .badge")).to_have_text("succeeded", timeout=300_000)
    tasks = page.get_by_role("table", name="Tasks by party")
    expect(tasks.locator("tbody tr")).to_have_count(9)
    expect(tasks.locator("tbody tr td:nth-child(2) .badge")).to_have_text(["succeeded"] * 9)
    expect(page.locator('tr[data-task="lr"] td[data-party="arbiter:carmaker"] .badge')
           ).to_have_text("succeeded")
    page.get_by_role("tab", name=re.compile("ROC")).click()
    expect(page.locator("figure.chart", has_text="ROC").first).to_be_visible()
    shot(page, "demo-monitor")

    # The federation log (issue 22): the job's contribution report, a head co-signed by both
    # partners (final), and every log held here verified.
    page.get_by_role("link", name="Federation log & contributions").click()
    report = page.get_by_role("region", name="Contribution report")
    report.get_by_role("button", name="Compute contributions").click()
    scores = report.get_by_role("table", name="Contribution report")
    expect(scores.locator("tbody tr td:first-child")).to_have_text(["bank", "telco"])
    page.get_by_role("button", name="Sign a new head").click()
    expect(page.get_by_text(re.compile(r"New signed head at size \d+"))).to_be_visible()
    heads = page.get_by_role("table", name="Signed heads")
    expect(heads.get_by_role("row", name=re.compile("^bank"))).to_contain_text(
        re.compile(r"final · 2 of \d co-signatures"))
    expect(heads).to_contain_text("carmaker, telco")
    page.get_by_role("button", name="Verify now").click()
    expect(page.get_by_role("status").first).to_contain_text("logs held here verified")
    expect(page.get_by_role("table", name="Entries")).to_contain_text("contribution.scores")
    shot(page, "demo-ledger")


def test_console_journey(world: World, context: BrowserContext) -> None:
    english(context)
    bank, telco = world.cluster["bank"], world.cluster["telco"]
    page = context.new_page()

    # The telco approves the bank's grant request from its inbox (待办), seeing what it covers.
    sign_in(page, telco.url, telco.admin_password)
    page.get_by_role("link", name="Approvals").click()
    grant = page.locator("article", has_text="telco_usage")
    expect(grant).to_contain_text("hetero_secureboost")
    shot(page, "approvals")
    grant.get_by_role("button", name="Approve").click()
    expect(page.locator("article", has_text="telco_usage")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()

    # The bank signs in, sees its overview and registers its table.
    sign_in(page, bank.url, bank.admin_password)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_role("table", name="Partners")).to_contain_text("telco")
    expect(page.get_by_role("article", name="Node health")).to_contain_text("days left")
    for shown in ("Crypto suite", "standard (X25519, SHA-256"):
        expect(page.get_by_role("article", name="Node health")).to_contain_text(shown)
    shot(page, "overview")
    page.get_by_role("link", name="Partners").click()
    page.get_by_role("button", name="telco").click()
    expect(page.get_by_role("table", name="Datasets shared with us")).to_contain_text("telco_usage")
    shot(page, "partners")
    page.get_by_role("link", name="Datasets").click()
    form = page.get_by_role("form", name="Register a dataset")
    form.locator("input[name=name]").fill("bank_applicants")
    form.locator("input[name=location]").fill(str(world.bank_csv))
    form.locator("input[name=id_column]").fill("phone")
    form.locator("input[name=label_column]").fill("default")
    form.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("table", name="Datasets")).to_contain_text("bank_applicants")
    shot(page, "datasets")

    # Build the job by drag and drop; wire and fill the generated forms.
    page.get_by_role("link", name="Job editor").click()
    page.locator('input[name="parties-host"]').fill("telco")
    _add(page, "reader", 20, 20)
    page.locator("#root_id_column").fill("phone")
    _json(page, "role_parameters (JSON)", '{"guest": {"label_column": "default"}}')
    _json(page, "Per-party parameters (JSON)",
          '{"guest:bank": {"path": "bank_applicants"}, "host:telco": {"path": "telco_usage"}}')
    _add(page, "psi", 250, 20)
    _wire(page, "data", "reader.data")
    _add(page, "data_split", 20, 160)
    _wire(page, "data", "psi.data")
    _add(page, "hetero_secureboost", 250, 160)
    _wire(page, "train_data", "data_split.train")
    page.locator("#root_num_trees").fill("2")
    page.locator("#root_max_depth").fill("2")
    page.locator("#root_key_bits").select_option(label="1024")
    page.locator("#root_allow_insecure_key").check()
    _add(page, "predict", 20, 300)
    _wire(page, "model", "hetero_secureboost.model")
    _wire(page, "data", "data_split.test")
    # Typed ports: a dataset input never offers a model output.
    expect(page.get_by_label("Inputs data", exact=True).locator("option")).not_to_contain_text(
        ["hetero_secureboost.model"])
    _add(page, "evaluate", 250, 300)
    _wire(page, "data", "predict.predictions")
    page.get_by_role("button", name="Auto-layout").click()
    page.get_by_role("button", name="Validate").click()
    expect(page.get_by_role("status")).to_have_text("The job is valid.")
    yaml = page.get_by_label("YAML", exact=True).input_value()
    assert "train_data: data_split.train" in yaml and "num_trees: 2" in yaml
    assert "columns:" not in yaml  # an optional field left empty stays out of the document
    shot(page, "editor")

    # Run it and watch it finish; the ROC chart comes from the evaluation report.
    page.get_by_role("button", name="Run all").click()
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f]{16}$"))
    job_id = page.url.rsplit("/", 1)[1]
    expect(page.locator(".page-actions .badge")).to_have_text("succeeded", timeout=150_000)
    expect(page.get_by_role("log")).to_contain_text("hetero_secureboost")
    reports = bank.call("GET", f"/jobs/{job_id}/reports")
    assert [r["task"] for r in reports] == ["evaluate"], reports
    page.get_by_role("tab", name=re.compile("ROC")).click()
    expect(page.locator("figure.chart", has_text="ROC")).to_be_visible()
    # Each party's own state per task (issue 21): the telco's PSI party reported to the bank.
    expect(page.locator('tr[data-task="psi"] td[data-party="host:telco"] .badge')).to_have_text(
        "succeeded")
    shot(page, "monitor")

    # The dataset's usage lists the job; the job list clones it into the editor from the
    # document the node returns.
    page.get_by_role("link", name="Datasets").click()
    page.get_by_role("button", name="bank_applicants").click()
    expect(page.get_by_role("table", name="Jobs that used it (parties run by this node)")
           ).to_contain_text(job_id)
    page.get_by_role("link", name="Jobs", exact=True).click()
    page.get_by_role("row", name=re.compile(job_id)).get_by_role("button", name="Clone").click()
    # The cloned task is on the canvas (React Flow keeps a node "hidden" until it has measured
    # it, which a loaded machine can delay: count it) and the document is the job's.
    expect(page.locator('.react-flow__node[data-id="hetero_secureboost"]')).to_have_count(1)
    expect(page.get_by_label("YAML", exact=True)).to_have_value(re.compile("num_trees: 2"))

    # A PSI task with the telco from its screen: save, run now, follow the record, preview.
    page.get_by_role("link", name="PSI", exact=True).click()
    psi = page.get_by_role("form", name="Save a PSI task")
    for field, value in (("name", "match"), ("dataset", "bank_applicants"), ("key_column", "phone"),
                         ("partner", "telco"), ("partner_dataset", "telco_usage")):
        psi.locator(f"input[name=psi-{field}]").fill(value)
    psi.get_by_role("button", name="Submit").click()
    page.get_by_role("table", name="PSI tasks").get_by_role("button", name="Run now").click()
    runs = page.get_by_role("table", name="Run records")
    expect(runs.locator(".badge").first).to_have_text("succeeded", timeout=120_000)
    runs.get_by_role("button", name="Preview").first.click()
    expect(page.get_by_role("table", name=re.compile(r"Preview #\d+"))).to_contain_text("phone")
    shot(page, "psi")

    # Publish the model from the job, deploy it with online sources and call it.
    for org, handle, dataset in (("bank", bank, "bank_applicants"),
                                 ("telco", telco, "telco_usage")):
        handle.call("POST", "/online-sources", json={"name": f"{org}-online", "dataset": dataset})
    page.get_by_role("link", name="Model library").click()
    publish = page.get_by_role("form", name="Publish from a job")
    publish.locator("input[name=model-name]").fill("credit")
    publish.locator("input[name=job-id]").fill(job_id)
    publish.locator("input[name=task]").fill("hetero_secureboost")
    publish.locator("input[name=publish-hosts]").fill('{"telco": "telco"}')
    publish.get_by_role("button", name="Publish from a job").click()
    expect(page.get_by_role("table", name="Model library")).to_contain_text("credit")
    page.get_by_role("button", name="Verify now").first.click()
    expect(page.get_by_role("status").first).to_contain_text("Integrity verified")
    deploy = page.get_by_role("form", name="Deploy")
    deploy.locator("input[name=service-name]").fill("scoring")
    deploy.locator("input[name=service-model]").fill("credit")
    deploy.locator("input[name=deploy-source]").fill("bank-online")
    deploy.locator("input[name=deploy-hosts]").fill('{"telco": "telco-online"}')
    deploy.get_by_role("button", name="Deploy").click()
    expect(page.get_by_role("table", name="Services")).to_contain_text("scoring")
    call = page.get_by_role("form", name="Call the service")
    call.locator("input[name=call-service]").fill("scoring")
    call.locator("input[name=call-ids]").fill(",".join(world.bank_ids[:3]))
    call.get_by_role("button", name="Call the service").click()
    expect(call.get_by_role("status")).to_contain_text('"scores"')
    shot(page, "models")

    # The audit trail records all of it, and its hash chain holds.
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("table", name="Audit log")).to_contain_text("job.submitted")
    page.get_by_role("button", name="Check integrity").click()
    expect(page.get_by_role("status")).to_contain_text("Hash chain intact")
    shot(page, "audit")

    # An API key for a script, shown once.
    page.get_by_role("link", name="Users & keys").click()
    create = page.get_by_role("form", name="Create user")
    create.get_by_label("Username").fill("etl")
    create.get_by_label("Kind").select_option("api")
    create.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("table", name="Users")).to_contain_text("etl")
    issue = page.get_by_role("form", name="Issue API key")
    issue.get_by_label("Username").fill("etl")
    issue.get_by_label("Scopes (comma-separated, optional)").fill("jobs.read")
    issue.get_by_role("button", name="Issue API key").click()
    expect(page.get_by_role("status")).to_contain_text("ck_")
    expect(page.get_by_role("table", name="API keys")).to_contain_text("jobs.read")
    shot(page, "users")


def test_language_switch_is_remembered(world: World, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(world.cluster["bank"].url + "/")
    page.get_by_label(re.compile("Language|语言")).select_option("en")
    expect(page.get_by_role("heading", name="Coalition · Sign in")).to_be_visible()
    page.get_by_label("Language").select_option("zh-CN")
    expect(page.get_by_role("heading", name="Coalition · 登录")).to_be_visible()
    page.locator("input[name=password]").fill(world.cluster["bank"].admin_password)
    page.locator("form.signin button[type=submit]").click()
    expect(page.get_by_role("link", name="概览")).to_be_visible()
    expect(page.get_by_role("link", name="待办")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="概览")).to_be_visible()
    expect(page.get_by_role("table", name="合作方")).to_contain_text("telco")
    shot(page, "overview-zh-CN")


def test_editor_by_keyboard_alone(world: World, context: BrowserContext) -> None:
    english(context)
    page = context.new_page()
    sign_in(page, world.cluster["bank"].url, world.cluster["bank"].admin_password)
    page.goto(world.cluster["bank"].url + "/editor")
    reader = page.locator('.palette-item[data-component="reader"]')
    reader.focus()
    page.keyboard.press("Enter")  # add
    page.locator('.palette-item[data-component="psi"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator(".react-flow__node")).to_have_count(2)
    wire = page.get_by_label("Inputs data", exact=True)  # psi is selected: connect by keyboard
    wire.focus()
    page.keyboard.press("ArrowDown")
    # The YAML follows the change after a render: wait for it rather than read it at once.
    expect(page.get_by_label("YAML", exact=True)).to_have_value(re.compile(r"data: reader\.data"))
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    node = page.locator('.react-flow__node[data-id="psi"]')
    node.focus()
    expect(node).to_be_focused()
    before = node.get_attribute("style")
    page.keyboard.press("Enter")  # select the focused node
    page.keyboard.press("ArrowRight")  # move
    page.keyboard.press("ArrowRight")
    expect(node).not_to_have_attribute("style", before or "")
    page.keyboard.press("Delete")  # delete
    expect(page.locator(".react-flow__node")).to_have_count(1)
    expect(page.locator(".react-flow__edge")).to_have_count(0)
    page.locator("body").press("Control+z")  # undo
    expect(page.locator(".react-flow__node")).to_have_count(2)
    shot(page, "editor-keyboard")
    page.get_by_role("button", name="Example job").press("Enter")  # the demo's job, valid here
    expect(page.locator(".react-flow__node")).to_have_count(9)  # with the car maker's SS-LR
    page.get_by_role("button", name="Validate").press("Enter")
    expect(page.get_by_role("status")).to_have_text("The job is valid.")


def test_private_lookup_from_the_console(world: World, context: BrowserContext) -> None:
    """The telco publishes a PIR service from its console, the bank looks IDs up in it from
    its own console, the telco sees the batch by count only and withdraws the service."""
    bank, telco = world.cluster["bank"], world.cluster["telco"]
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    with telco.client() as telco_api, bank.client() as bank_api:
        asked = bank_api.ask_grant("telco", "telco_subscribers", purpose="lookups",
                                   component_kinds=["pir"], valid_until=until)
        if asked["status"] == "pending":
            telco_api.approve_grant(int(asked["id"]))
    english(context)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, telco.url, telco.admin_password)
    page.get_by_role("link", name="Private lookup").click()
    publish = page.get_by_role("form", name="Publish a PIR service")
    publish.get_by_label("Name", exact=True).fill("bills")
    publish.get_by_label("Dataset", exact=True).fill("telco_subscribers")
    publish.get_by_label("ID column", exact=True).fill("phone")
    publish.get_by_label("Payload columns", exact=True).fill("monthly_bill")
    publish.get_by_role("button", name="Publish a PIR service").click()
    expect(page.get_by_role("table", name="Our PIR services")).to_contain_text("bills")

    mine = context.new_page()
    sign_in(mine, bank.url, bank.admin_password)
    mine.get_by_role("link", name="Private lookup").click()
    ask = mine.get_by_role("form", name="Look up IDs in a partner's service")
    ask.get_by_label("Partner", exact=True).fill("telco")
    ask.get_by_label("Service", exact=True).fill("bills")
    ask.get_by_label("ID column", exact=True).fill("phone")
    known = world.bank_ids[:3]
    ask.get_by_label("…or IDs, one per line", exact=True).fill("\n".join([*known, "19999999999"]))
    ask.get_by_role("button", name="Look up").click()
    telco_ids = set(pd.read_csv(world.bank_csv.parent / "telco.csv", dtype={"phone": str})["phone"])
    found = sum(i in telco_ids for i in known)
    expect(mine.get_by_text(f"{found} of 4 IDs found")).to_be_visible()
    expect(mine.get_by_role("table", name="Results")).to_contain_text("19999999999")
    shot(mine, "lookups-bank")

    page.reload()
    records = page.get_by_role("table", name="PIR batches")
    expect(records).to_contain_text("provider")
    assert known[0] not in records.inner_text()  # counts, never an ID
    services = page.get_by_role("table", name="Our PIR services")
    services.get_by_role("button", name="Withdraw").click()
    expect(page.get_by_role("table", name="Our PIR services")).to_have_count(0)
    shot(page, "lookups-telco")
def test_load_a_template(world: World, context: BrowserContext) -> None:
    """Issue 26: a template from the node's catalog onto the canvas, its parties mapped to
    this federation's organisations and its readers to datasets registered here."""
    english(context)
    page = context.new_page()
    sign_in(page, world.cluster["bank"].url, world.cluster["bank"].admin_password)
    page.goto(world.cluster["bank"].url + "/editor")
    page.get_by_role("button", name="Load template").click()
    dialog = page.get_by_role("dialog", name="Load a job template")
    dialog.get_by_label("Template").select_option("credit_scorecard")
    expect(dialog.get_by_label("Organisation for bank")).to_have_value("bank")  # this node
    expect(dialog.get_by_label("Organisation for telco")).to_have_value("telco")  # a partner
    load = dialog.get_by_role("button", name="Load onto the canvas")
    expect(load).to_be_disabled()  # nobody of that name here plays the coordinator
    dialog.get_by_label("Organisation for coordinator").select_option("carmaker")
    dialog.get_by_label("Dataset at bank").fill("bank_customers")
    dialog.get_by_label("Dataset at telco").fill("telco_subscribers")
    shot(page, "template-dialog")
    load.click()
    expect(page.locator(".react-flow__node")).to_have_count(11)
    yaml = page.get_by_label("YAML", exact=True)
    expect(yaml).to_have_value(re.compile(r"arbiter:\s+- carmaker"))
    expect(yaml).to_have_value(re.compile(r"host:telco:\s+path: telco_subscribers"))
    page.get_by_role("button", name="Validate").click()
    expect(page.get_by_role("status")).to_have_text("The job is valid.")
    shot(page, "template-editor")
