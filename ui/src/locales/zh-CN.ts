// 简体中文（完整）。键与 en.ts 一一对应，类型检查与测试都会核对。
import type { Messages } from "./en";

export const zhCN: Messages = {
  app: { title: "Coalition 控制台", signOut: "退出登录", language: "语言", node: "节点" },
  nav: {
    overview: "概览", approvals: "待办", jobs: "任务", editor: "任务编排",
    datasets: "数据集", partners: "合作方", models: "模型库", users: "用户与密钥",
    audit: "审计日志", sectionWork: "建模", sectionGovern: "治理",
  },
  common: {
    loading: "加载中…", error: "错误", save: "保存", cancel: "取消", approve: "批准",
    reject: "拒绝", refresh: "刷新", name: "名称", state: "状态", actions: "操作",
    none: "暂无内容。", created: "创建时间", submit: "提交", close: "关闭",
    reason: "理由", open: "打开", yes: "是", no: "否", details: "详情", role: "角色",
  },
  signIn: {
    title: "登录", username: "用户名", password: "密码", submit: "登录",
    failed: "登录失败：{{message}}",
  },
  overview: {
    title: "概览", health: "节点健康", healthy: "正常", version: "版本",
    fingerprint: "证书指纹", peerAddress: "节点间地址",
    partners: "合作方", reachable: "可达", unreachable: "不可达",
    unchecked: "未检查", check: "立即检查", certExpiry: "证书到期",
    running: "运行中的任务", daysLeft: "剩余 {{days}} 天", pending: "待审批", lastCheck: "上次检查",
  },
  approvals: {
    title: "待办审批", grants: "授权申请", jobs: "等待审批的任务",
    dataset: "数据集", partner: "合作方", purpose: "用途", kinds: "组件类型",
    terms: "条款", validUntil: "有效期至", sites: "站点与参数",
    task: "任务节点", variant: "变体", party: "参与方", site: "站点", parameters: "参数",
    reasonRequired: "拒绝时必须填写理由。", empty: "没有待办审批。",
  },
  jobs: {
    title: "任务", new: "新建任务", id: "任务", initiator: "发起方", tasks: "任务节点",
    rerun: "重跑", cancel: "取消", compare: "对比", compareTwo: "选择两个任务进行对比",
    clone: "复制", error: "错误",
  },
  editor: {
    title: "任务编排", palette: "组件", layout: "自动布局", undo: "撤销",
    redo: "重做", saveDraft: "保存草稿", drafts: "草稿", loadDraft: "载入",
    validate: "校验", example: "示例任务", valid: "任务校验通过。", problems: "问题",
    yaml: "YAML", canvas: "画布", runAll: "全部运行", runFrom: "从选中节点运行",
    runOnly: "仅运行选中节点", jobName: "任务名称", parties: "参与方",
    partiesHelp: "各角色的机构，用逗号分隔", properties: "节点",
    taskName: "节点名称", component: "组件", roles: "参与的角色",
    inputs: "输入", outputs: "输出", unwired: "（未连接）", parameters: "参数",
    partyParameters: "各参与方参数（JSON）", deleteTask: "删除节点",
    addHint: "将组件拖到画布上，或聚焦后按回车添加。",
    wrongKind: "无法将 {{from}} 连接到 {{to}}：类型不同。", noSelection: "请选择一个节点。",
    sites: "站点（参与方 → 机构）", yamlInvalid: "YAML 未应用：{{message}}",
    categories: { data: "数据", vertical: "纵向模型", horizontal: "横向模型",
      scoring: "预测与评估", other: "其他" },
    keyboard: "键盘操作：Tab 选中节点，方向键移动，Delete 删除；在节点面板中连接输入。",
  },
  monitor: {
    title: "任务监控", tasks: "各参与方的节点状态", logs: "实时日志", metrics: "指标",
    organisations: "机构", attempts: "时间线", seconds: "耗时（秒）", charts: "图表",
    loss: "损失", scalars: "标量指标", roc: "ROC 曲线", ks: "KS 曲线", lift: "提升 / 增益", pr: "精确率–召回率",
    confusion: "混淆矩阵", importance: "特征重要性", noMetrics: "暂无指标。",
    live: "实时", ended: "已结束", level: "级别", message: "消息", at: "时间",
  },
  datasets: {
    title: "数据集", register: "注册数据集", kind: "类型", location: "位置",
    table: "表", idColumn: "ID 列", labelColumn: "标签列", rows: "行数",
    columns: "列", sharedWith: "共享给", preview: "脱敏预览", stats: "统计",
    share: "共享给合作方", description: "描述", grants: "授权", usage: "使用情况",
  },
  partners: {
    title: "合作方", address: "地址", fingerprint: "指纹", health: "健康",
    check: "检查", registered: "注册时间", remoteDatasets: "对我方共享的数据集", askGrant: "申请授权", days: "有效天数",
  },
  models: {
    title: "模型库", version: "版本", component: "组件", guest: "发起方（Guest）",
    metrics: "指标", verify: "立即校验", verified: "完整性校验通过",
    protection: "防篡改保护", protectedOn: "已开启（签名）", protectedOff: "未开启", publish: "从任务发布", jobId: "任务 ID", task: "任务节点",
    deploy: "部署", services: "服务", service: "服务", call: "调用服务",
    ids: "ID（逗号分隔）", scores: "得分", compare: "对比", hosts: "Host 数据源（JSON）", source: "Guest 在线数据源",
  },
  users: {
    title: "用户、角色与 API 密钥", users: "用户", create: "创建用户", apiKeys: "API 密钥",
    issue: "签发 API 密钥", revoke: "吊销", scopes: "权限范围（逗号分隔，可选）",
    newKey: "新密钥（仅显示一次）：{{key}}", disabled: "已停用", kind: "类型", human: "人员（密码登录）", api: "API 用户（仅密钥）",
  },
  audit: {
    title: "审计日志", verify: "完整性校验", intact: "哈希链完整",
    broken: "哈希链已损坏", actor: "操作人", action: "操作", at: "时间", target: "对象",
    export: "导出",
  },
  states: {
    pending: "等待中", waiting_approval: "等待审批", running: "运行中",
    succeeded: "成功", failed: "失败", cancelled: "已取消", reused: "已复用",
    accepted: "已接受", rejected: "已拒绝", approved: "已批准", revoked: "已撤销",
    expired: "已过期",
  },
};
