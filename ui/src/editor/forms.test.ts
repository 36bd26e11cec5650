import { describe, expect, it } from "vitest";
import type { ComponentInfo } from "../api";
import { errorSchemaFor, formFor, optionalAsPlain, otherProblems, withoutDefaults } from "./forms";

const boost: ComponentInfo = {
  ref: "hetero_secureboost:1", name: "hetero_secureboost", version: "1.0.0", category: "vertical",
  description: "", roles: ["guest", "host"], required_roles: ["guest", "host"], inputs: {}, outputs: {},
  parameters: {
    title: "SecureBoostParams", type: "object", additionalProperties: false,
    properties: {
      num_trees: { type: "integer", minimum: 1, default: 5, description: "trees to grow" },
      goss: { type: "boolean", default: false },
    },
  },
};

describe("forms from the node's JSON Schema", () => {
  it("keeps the schema (descriptions included), orders fields, checkbox for booleans, no submit button", () => {
    const { schema, uiSchema } = formFor(boost);
    expect(schema["title"]).toBeUndefined();
    expect(schema["properties"]).toEqual((boost.parameters as { properties: unknown }).properties);
    expect(uiSchema["ui:order"]).toEqual(["num_trees", "goss", "*"]);
    expect(uiSchema["num_trees"]).toBeUndefined();
    expect(uiSchema["goss"]).toEqual({ "ui:widget": "checkbox" });
    expect(uiSchema["ui:submitButtonOptions"]).toEqual({ norender: true });
  });

  it("maps the server's field errors onto the form of the right task", () => {
    const problems = [
      { path: "tasks.train.parameters.num_trees", task: "train", message: "Input should be greater than or equal to 1" },
      { path: "tasks.train.party_parameters.guest:bank.goss", task: "train", message: "bad" },
      { path: "tasks.other.parameters.num_trees", task: "other", message: "elsewhere" },
      { path: "tasks.train.inputs.train_data", task: "train", message: "unwired" },
    ];
    expect(errorSchemaFor(problems, "train")).toEqual({
      num_trees: { __errors: ["Input should be greater than or equal to 1"] },
      goss: { __errors: ["bad"] },
    });
    expect(otherProblems(problems).map((p) => p.path)).toEqual(["tasks.train.inputs.train_data"]);
  });

  it("shows optional fields (anyOf [T, null]) as plain T fields", () => {
    expect(optionalAsPlain({ anyOf: [{ type: "string", maxLength: 9 }, { type: "null" }], default: null, description: "d" }))
      .toEqual({ type: "string", maxLength: 9, description: "d" });
    expect(optionalAsPlain({ anyOf: [{ type: "string" }, { type: "integer" }] })).toEqual({ anyOf: [{ type: "string" }, { type: "integer" }] });
    const { schema } = formFor({ ...boost, parameters: { type: "object", properties: {
      label: { anyOf: [{ type: "string" }, { type: "null" }], default: null } } } });
    expect((schema["properties"] as Record<string, unknown>)["label"]).toEqual({ type: "string" });
    const spec = formFor({ ...boost, parameters: { type: "object", properties: {
      columns: { anyOf: [{ type: "array", items: { type: "string" } }, { type: "null" }], default: null } } } });
    expect(spec.optional).toEqual(["columns"]);
    expect(withoutDefaults(spec.schema, { columns: [] }, spec.optional)).toEqual({});
    expect(withoutDefaults(spec.schema, { columns: ["a"] }, spec.optional)).toEqual({ columns: ["a"] });
  });

  it("drops values equal to their defaults", () => {
    expect(withoutDefaults(boost.parameters, { num_trees: 5, goss: true, x: undefined })).toEqual({ goss: true });
  });
});
