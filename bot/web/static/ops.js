// The operations console: login, dashboard (/ops) and inbox (/ops/inbox). Every text from users or documents is
// put into the page with textContent, never as HTML. Writes send the session's CSRF token.
"use strict";

const KIND_NAMES = {answer: "回答", clarify: "澄清提问", verdict: "资格结论", fallback: "没听懂", out_of_scope: "超出范围",
  handoff: "转人工", unavailable: "服务不可用", smalltalk: "寒暄"};
const REASON_NAMES = {fallback: "没听懂", out_of_scope: "超出范围", unavailable: "服务不可用", menu: "给了通用菜单",
  abandoned: "澄清后用户没回", down: "用户点了👎"};
const ASPECT_NAMES = {materials: "材料", office: "地点", phone: "电话", supervision: "监督电话", time_limit: "时限",
  process: "流程", eligibility: "条件", legal_basis: "依据", online: "网上办", form: "表格", amount: "金额"};
let me = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function status(text) {
  document.getElementById("status").textContent = text;
}

async function api(path, options = {}) {
  const headers = {"Accept": "application/json"};
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (me && options.method && options.method !== "GET") headers["X-CSRF-Token"] = me.csrf;
  const response = await fetch(path, {method: options.method || "GET", headers, credentials: "same-origin",
    body: options.body === undefined ? undefined : JSON.stringify(options.body)});
  if (response.status === 401 && document.body.dataset.page !== "login") {
    location.href = "/ops/login";
    throw new Error("请先登录");
  }
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function table(node, head, rows) {
  node.replaceChildren(el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows.map((row) => el("tr", {}, ...row.map((cell) => el("td", {}, cell ?? ""))))));
}

function showRange(data) {
  document.getElementById("from").value = data.from;
  document.getElementById("to").value = data.to;
}

// The range is the server's (its time zone decides the days): empty dates ask for its last 7 days.
function rangeQuery() {
  const params = new URLSearchParams();
  for (const id of ["from", "to", "channel", "region"]) {
    const input = document.getElementById(id);
    if (input && input.value) params.set(id, input.value);
  }
  return params;
}

// The dashboard's and the inbox's shared controls: the navigation, the user and the logout button after the page's
// title, and the date and channel filters before the page's own.
function addSharedControls() {
  const links = [["/ops", "概览"], ["/ops/inbox", "待处理"]].map(([href, name]) =>
    el("a", href === location.pathname ? {href, "aria-current": "page"} : {href}, name));
  document.querySelector("header.top").append(el("nav", {}, ...links), el("span", {id: "who"}),
    el("button", {type: "button", id: "logout"}, "退出"));
  const channels = [["", "全部"], ["rest", "REST"], ["widget", "网页助手"], ["wechat", "微信"]];
  document.getElementById("range").prepend(
    el("label", {}, "从 ", el("input", {type: "date", id: "from", required: ""})),
    el("label", {}, "到 ", el("input", {type: "date", id: "to", required: ""})),
    el("label", {}, "渠道 ",
      el("select", {id: "channel"}, ...channels.map(([value, name]) => el("option", {value}, name)))));
}

async function startPage(load) {
  addSharedControls();
  me = await api("/ops/api/me");
  document.getElementById("who").textContent = `${me.name}（${me.role}）`;
  document.body.classList.toggle("admin", me.role === "admin");
  document.getElementById("logout").addEventListener("click", async () => {
    await api("/ops/api/logout", {method: "POST", body: {}});
    location.href = "/ops/login";
  });
  document.getElementById("range").addEventListener("submit", (event) => {
    event.preventDefault();
    load().catch((error) => status(error.message));
  });
  await load();
}

// Login ------------------------------------------------------------------------------------------------------

function loginPage() {
  document.getElementById("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("login-error");
    error.textContent = "";
    try {
      await api("/ops/api/login", {method: "POST", body: {name: document.getElementById("name").value,
        password: document.getElementById("password").value}});
      location.href = "/ops";
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
}

// Dashboard --------------------------------------------------------------------------------------------------

const charts = {};

function drawChart(id, config) {
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart(document.getElementById(id), {...config, options: {animation: false, responsive: true,
    maintainAspectRatio: false, ...config.options}});
}

async function loadDashboard() {
  const query = rangeQuery();
  const data = await api(`/ops/api/stats?${query}`);
  showRange(data);
  document.getElementById("export").href = `/ops/api/export.csv?${query}`;
  const total = data.total;
  const percent = (share) => `${Math.round(share * 1000) / 10}%`;
  const cards = [["对话", total.conversations], ["消息", total.messages],
    ...Object.keys(KIND_NAMES).map((kind) => [KIND_NAMES[kind], `${total.kinds[kind]}（${percent(total.shares[kind])}）`]),
    ["👍", total.up, "有用"], ["👎", total.down, "没用"],
    ["耗时中位数", data.latency.median_ms === null ? "—" : `${data.latency.median_ms} ms`],
    ["耗时 p95", data.latency.p95_ms === null ? "—" : `${data.latency.p95_ms} ms`]];
  document.getElementById("totals").replaceChildren(...cards.map(([name, value, words]) =>
    el("div", {class: "card", "data-name": name}, el("span", {class: "value"}, value),
      el("span", {}, words ? `${name}${words}` : name))));
  const days = data.days.map((day) => day.day.slice(5));
  drawChart("chart-days", {type: "bar", data: {labels: days, datasets: [
    {label: "消息", data: data.days.map((day) => day.messages)},
    {label: "对话", data: data.days.map((day) => day.conversations)},
    {label: "👎", data: data.days.map((day) => day.down)}]}});
  drawChart("chart-kinds", {type: "doughnut", data: {labels: Object.values(KIND_NAMES),
    datasets: [{data: Object.keys(KIND_NAMES).map((kind) => total.kinds[kind])}]}});
  drawChart("chart-hours", {type: "bar", data: {labels: data.hours.map((_, hour) => `${hour}时`),
    datasets: [{label: "消息", data: data.hours}]}, options: {plugins: {legend: {display: false}}}});
  table(document.getElementById("days-table"), ["日期", "对话", "消息", ...Object.values(KIND_NAMES), "👍有用", "👎没用"],
    data.days.map((day) => [day.day, day.conversations, day.messages,
      ...Object.keys(KIND_NAMES).map((kind) => day.kinds[kind]), day.up, day.down]));
  table(document.getElementById("items-table"), ["事项", "次数"], data.top_items.map((item) => [item.name, item.count]));
  table(document.getElementById("regions-table"), ["地区", "次数"],
    data.top_regions.map((region) => [region.region, region.count]));
  if (me.role === "admin") await loadAdmin();
  status(`已更新：${data.from} 至 ${data.to}`);
}

async function loadAdmin() {
  const users = await api("/ops/api/users");
  table(document.getElementById("users-table"), ["用户", "角色", "状态", ""], users.users.map((user) => [
    user.name, user.role, user.locked ? "已锁定" : "正常",
    user.name === me.name ? "" : el("button", {type: "button", onclick: async () => {
      await api(`/ops/api/users/${encodeURIComponent(user.name)}`, {method: "DELETE"});
      await loadAdmin();
    }}, "删除")]));
  const audit = await api("/ops/api/audit");
  table(document.getElementById("audit-table"), ["时间", "用户", "操作", "内容", "地址"], audit.audit.slice(0, 30).map(
    (row) => [new Date(row.at * 1000).toLocaleString("zh-CN"), row.user, row.action, row.detail, row.address]));
}

function readingView(reading) {
  const items = reading.items.length ? el("ol", {}, ...reading.items.map((item) =>
    el("li", {}, `${item.name}（${item.code}）`, el("span", {class: "score"}, ` 得分 ${item.score} · ${item.kind}`))))
    : el("p", {}, "没有匹配的事项");
  return el("div", {class: "reading"},
    el("p", {}, "方面：", reading.aspects.map((aspect) => ASPECT_NAMES[aspect] || aspect).join("、") || "（无）"),
    el("p", {}, "地区：", reading.region_label || (reading.region && reading.region.label) || "（无）"),
    ...(reading.intent ? [el("p", {}, `模型意图：${reading.intent.name}（${Math.round(reading.intent.confidence * 100)}%）`)] : []),
    el("p", {}, "事项排序："), items);
}

function dashboardPage() {
  document.getElementById("try-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const reading = await api(`/ops/api/try?${new URLSearchParams({q: document.getElementById("try-text").value})}`);
      document.getElementById("try-result").replaceChildren(readingView(reading));
    } catch (error) {
      status(error.message);
    }
  });
  document.getElementById("user-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("/ops/api/users", {method: "POST", body: {name: document.getElementById("user-name").value,
        role: document.getElementById("user-role").value, password: document.getElementById("user-password").value}});
      event.target.reset();
      await loadAdmin();
    } catch (error) {
      status(error.message);
    }
  });
  startPage(loadDashboard).catch((error) => status(error.message));
}

// Inbox ------------------------------------------------------------------------------------------------------

let catalogue = null;

function choices(name, options, chosen) {
  return el("div", {class: "choices", role: "radiogroup"}, ...options.map(([value, label]) => {
    const input = el("input", {type: "radio", name, value});
    if (value === chosen) input.checked = true;
    return el("label", {class: "chip"}, input, label);
  }));
}

function groupView(group) {
  const turn = group.turn;
  const id = `g${turn.id}`;
  const ranked = turn.ranked.map((item) => [item.code, `${item.name}（${item.score}）`]);
  const firstItem = turn.ranked.length ? turn.ranked[0].code : "";
  const others = el("select", {name: `${id}-other`, "aria-label": "其他事项"}, el("option", {value: ""}, "其他事项…"),
    ...catalogue.items.filter((item) => !turn.ranked.some((r) => r.code === item.code))
      .map((item) => el("option", {value: item.code}, item.name)));
  const aspect = turn.aspects.find((a) => catalogue.aspects.includes(a)) || "materials";
  const phrase = el("input", {name: `${id}-phrase`, maxlength: "40", placeholder: "新说法（原句里的词，可用+连接，选填）"});
  const region = el("input", {name: `${id}-region`, value: turn.region || "", maxlength: "128",
    placeholder: "地区 id，如 湖南省/衡阳市/耒阳市"});
  const form = el("form", {class: "label"});
  const save = async (decision) => {
    const body = {turn_ids: group.turn_ids, decision};
    if (decision === "item") {
      const picked = form.querySelector(`input[name="${id}-item"]:checked`);
      body.item = others.value || (picked ? picked.value : "");
      body.aspect = (form.querySelector(`input[name="${id}-aspect"]:checked`) || {}).value;
      body.region = region.value.trim();
      body.phrase = phrase.value.trim();
    }
    try {
      const result = await api("/ops/api/label", {method: "POST", body});
      form.closest("li").replaceChildren(el("p", {class: "done"}, `已保存（${result.written.join("、")}）：`, turn.text));
    } catch (error) {
      status(error.message);
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save("item");
  });
  form.append(
    el("p", {}, "事项："), choices(`${id}-item`, ranked, firstItem), others,
    el("p", {}, "方面："), choices(`${id}-aspect`, catalogue.aspects.map((a) => [a, ASPECT_NAMES[a] || a]), aspect),
    el("p", {}, "地区："), region, phrase,
    el("div", {class: "actions"}, el("button", {type: "submit"}, "保存"),
      el("button", {type: "button", onclick: () => save("out_of_scope")}, "不属于医保"),
      el("button", {type: "button", onclick: () => save("not_in_documents")}, "资料里没有")));
  return el("li", {class: "group", "data-turn": turn.id},
    el("h3", {}, turn.text),
    el("p", {class: "meta"}, `${group.count} 条 · ${group.reasons.map((r) => REASON_NAMES[r] || r).join("、")} · `,
      `${group.channels.join("、")} · ${new Date(turn.at * 1000).toLocaleString("zh-CN")} · 回复：${KIND_NAMES[turn.kind] || turn.kind}`),
    ...(group.texts.length > 1 ? [el("ul", {class: "similar"}, ...group.texts.slice(1, 6).map((t) => el("li", {}, t)))] : []),
    ...(turn.comment ? [el("p", {class: "comment"}, `用户说：${turn.comment}`)] : []),
    el("details", {}, el("summary", {}, "助手怎么理解的"), readingView({...turn, items: turn.ranked,
      intent: turn.intent ? {name: turn.intent, confidence: turn.confidence || 0} : null}),
      el("p", {class: "reply"}, turn.reply)),
    form);
}

async function loadInbox() {
  catalogue = catalogue || await api("/ops/api/catalogue");
  const data = await api(`/ops/api/inbox?${rangeQuery()}`);
  showRange(data);
  document.getElementById("groups").replaceChildren(...data.groups.map(groupView));
  status(data.groups.length ? `${data.groups.length} 组待处理` : "没有待处理的问题");
}

const pages = {login: loginPage, dashboard: dashboardPage,
  inbox: () => startPage(loadInbox).catch((error) => status(error.message))};
pages[document.body.dataset.page]();
