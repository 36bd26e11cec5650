// A starting point for people new to the console: the demo's credit-risk job across its three
// nodes (`make demo` registers these datasets at the bank and the telco and grants the bank's
// jobs; the car maker is the SS-LR arbiter, dealing Beaver triples and seeing no data).
import type { DagDoc } from "./dag";

export const CREDIT_DEMO: DagDoc = {
  version: 1,
  name: "credit_risk",
  parties: { guest: ["bank"], host: ["telco"], arbiter: ["carmaker"] },
  tasks: {
    reader: {
      component: "reader",
      parameters: { id_column: "phone" },
      role_parameters: { guest: { label_column: "default" } },
      party_parameters: { "guest:bank": { path: "bank_customers" }, "host:telco": { path: "telco_subscribers" } },
    },
    psi: { component: "psi", inputs: { data: "reader.data" } },
    data_split: { component: "data_split", parameters: { test_size: 0.3 }, inputs: { data: "psi.data" } },
    hetero_secureboost: {
      component: "hetero_secureboost",
      parameters: { num_trees: 3, max_depth: 3 },
      inputs: { train_data: "data_split.train" },
    },
    predict: { component: "predict", inputs: { model: "hetero_secureboost.model", data: "data_split.test" } },
    evaluate: { component: "evaluate", inputs: { data: "predict.predictions" } },
    lr: {
      component: "hetero_lr",
      parameters: { protocol: "ss", epochs: 5, batch_size: 256 },
      inputs: { train_data: "data_split.train" },
    },
    lr_predict: { component: "predict", inputs: { model: "lr.model", data: "data_split.test" } },
    lr_evaluate: { component: "evaluate", inputs: { data: "lr_predict.predictions" } },
  },
};
