import { describe, expect, it } from "vitest";
import { fromYaml } from "./dag";
import { applyTemplate, guessOrganisations, mappingProblems, templateOrganisations } from "./templates";

const SCORECARD = fromYaml(`
version: 1
name: credit_scorecard
parties: {guest: [bank], host: [telco], arbiter: [coordinator]}
tasks:
  read:
    component: reader
    parameters: {id_column: phone}
    role_parameters: {guest: {label_column: default}}
    party_parameters:
      guest:bank: {path: data/bank.csv}
      host:telco: {path: data/telco.csv}
  align: {component: psi, inputs: {data: read.data}}
`);

describe("job templates onto the canvas", () => {
  it("lists the organisations guest first", () => {
    expect(templateOrganisations({ roles: { arbiter: ["coordinator"], host: ["telco"], guest: ["bank"] } }))
      .toEqual([{ org: "bank", role: "guest" }, { org: "telco", role: "host" }, { org: "coordinator", role: "arbiter" }]);
  });
  it("guesses this node for the guest and partners by name", () => {
    expect(guessOrganisations({ roles: SCORECARD.parties }, "bank2", ["telco", "carmaker"]))
      .toEqual({ bank: "bank2", telco: "telco", coordinator: "" });
  });
  it("refuses an unchosen or doubly chosen organisation", () => {
    expect(mappingProblems({ bank: "bank", telco: "", coordinator: "bank" })).toHaveLength(2);
    expect(mappingProblems({ bank: "bank", telco: "telco", coordinator: "carmaker" })).toEqual([]);
  });
  it("renames parties and party parameters and sets the readers' datasets", () => {
    const doc = applyTemplate(SCORECARD, { bank: "bank", telco: "mobile", coordinator: "carmaker" },
      { bank: "bank_customers", telco: "subscribers" });
    expect(doc.parties).toEqual({ guest: ["bank"], host: ["mobile"], arbiter: ["carmaker"] });
    expect(doc.tasks["read"]!.party_parameters).toEqual({
      "guest:bank": { path: "bank_customers" }, "host:mobile": { path: "subscribers" } });
    expect(doc.tasks["read"]!.role_parameters).toEqual({ guest: { label_column: "default" } });
    expect(doc.tasks["align"]).toEqual(SCORECARD.tasks["align"]);
    // without datasets the template's paths stay
    expect(applyTemplate(SCORECARD, { telco: "mobile" }).tasks["read"]!.party_parameters!["host:mobile"])
      .toEqual({ path: "data/telco.csv" });
  });
});
