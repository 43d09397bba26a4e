/* The hotline agent console: search → items → the guide card of one item for one region (JSON API under /api/). */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const query = $("q");
  const city = $("city");
  const county = $("county");
  const results = $("results");
  const card = $("card");
  const regionNote = $("region-note");
  const statusLine = $("status");

  const PHONE_KINDS = [
    ["查询", "咨询电话（查询）"], ["办理", "咨询电话（办理）"], ["监督", "监督电话"], ["医院", "医院电话"],
  ];
  const ASPECT_BLOCKS = {
    materials: "materials", office: "offices", phone: "phones", supervision: "phones", time_limit: "time_limits",
    process: "process", legal_basis: "legal_basis", online: "online_channels", form: "forms", eligibility: "sections",
  };
  const OFFERS = { online: "该文件写明的线上渠道", hunan2025: "湖南省2025年版事项清单", office: "参保地医保经办机构窗口" };

  const URL_PATTERN = /(?:https?:\/\/|www\.)[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+/g;

  const state = { regions: new Map(), pinned: false, current: null, aspects: [], request: 0 };

  /** An element with attributes and children (strings become text nodes: nothing is parsed as HTML). */
  function el(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "onclick") element.addEventListener("click", value);
      else element.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat(Infinity)) {
      if (child !== null && child !== undefined && child !== false) element.append(child);
    }
    return element;
  }

  function announce(text) {
    statusLine.textContent = text;
  }

  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || "HTTP " + response.status);
    return data;
  }

  // Regions ---------------------------------------------------------------------------------------------

  function index(nodes, parent) {
    for (const node of nodes) {
      state.regions.set(node.id, { ...node, parent });
      index(node.children, node.id);
    }
  }

  function optionLabel(node) {
    return node.covered ? node.name : node.name + "（资料未覆盖）";
  }

  async function loadRegions() {
    const { regions } = await getJson("/api/regions");
    index(regions, null);
    const others = el("optgroup", { label: "其他省份（资料未覆盖）" });
    for (const province of regions) {
      if (!province.covered) {
        others.append(el("option", { value: province.id }, province.name));
        continue;
      }
      const group = el("optgroup", { label: province.name });
      group.append(el("option", { value: province.id }, province.name + "（全省）"));
      for (const node of province.children) group.append(el("option", { value: node.id }, optionLabel(node)));
      city.append(group);
    }
    city.append(others);
  }

  function fillCounties(cityId) {
    county.textContent = "";
    county.append(el("option", { value: "" }, "全市"));
    const node = state.regions.get(cityId);
    const children = node && node.level === "city" ? node.children : [];
    for (const child of children) county.append(el("option", { value: child.id }, child.name));
    county.disabled = !children.length;
  }

  function showRegion(regionId) {
    const node = state.regions.get(regionId);
    const cityId = node && node.level === "county" ? node.parent : regionId;
    city.value = cityId || "";
    fillCounties(cityId);
    county.value = node && node.level === "county" ? regionId : "";
  }

  function regionId() {
    return county.value || city.value;
  }

  function describeRegion(data) {
    regionNote.textContent = "";
    if (data.region) {
      const how = data.region_from === "text" ? "从搜索词“" + data.region.typed + "”识别" : "已选定";
      regionNote.append(el("span", {}, "地区：", el("strong", {}, data.region.label), "（" + how + "）"));
      if (!data.region.covered) regionNote.append(el("span", { class: "warn" }, " 资料未覆盖此地区"));
    } else if (data.alternatives.length) {
      regionNote.append("地区有多个同名，请选择：");
      for (const region of data.alternatives) {
        regionNote.append(el("button", { type: "button", class: "link", onclick: () => pickRegion(region.id) },
          region.label));
      }
    } else {
      regionNote.append("搜索词中没有地区，请在上方选择城市和区县。");
    }
  }

  function pickRegion(id) {
    state.pinned = Boolean(id);
    showRegion(id);
    regionNote.textContent = id ? "地区：" + state.regions.get(id).label + "（已选定）" : "";
    if (state.current) openItem(state.current);
  }

  // Search and results ------------------------------------------------------------------------------------

  async function search() {
    const text = query.value.trim();
    if (!text) {
      announce("请输入来电所问的事项或问题。");
      return;
    }
    const params = new URLSearchParams({ q: text });
    if (state.pinned && regionId()) params.set("region", regionId());
    let data;
    try {
      data = await getJson("/api/search?" + params);
    } catch (error) {
      announce("搜索失败：" + error.message);
      return;
    }
    state.aspects = data.aspects;
    if (!state.pinned) showRegion(data.region ? data.region.id : "");
    describeRegion(data);
    renderResults(data.items);
    if (!data.items.length) {
      state.current = null;
      renderMessage("没有找到相关事项。请换个说法，例如“异地安置”“生育津贴”“慢特病”。");
      announce("没有找到相关事项。");
    } else if (!regionId()) {
      state.current = data.items[0].code;
      markCurrent();
      renderMessage("找到 " + data.items.length + " 个事项。请先选择地区，再查看办事指南。");
      announce("找到 " + data.items.length + " 个事项，请选择地区。");
    } else {
      await openItem(data.items[0].code);
    }
  }

  function renderResults(items) {
    results.textContent = "";
    for (const item of items) {
      results.append(el("li", {}, el("button", {
        type: "button", class: "result", "data-code": item.code, onclick: () => openItem(item.code),
      }, el("span", { class: "name" }, item.name), el("span", { class: "code" }, item.code))));
    }
  }

  function resultButtons() {
    return Array.from(results.querySelectorAll("button.result"));
  }

  function markCurrent() {
    for (const button of resultButtons()) {
      button.setAttribute("aria-current", String(button.dataset.code === state.current));
    }
  }

  results.addEventListener("keydown", (event) => {
    const buttons = resultButtons();
    const at = buttons.indexOf(document.activeElement);
    const moves = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: buttons.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      if (event.key === "ArrowUp" && at <= 0) query.focus();
      else buttons[Math.min(Math.max(moves[event.key], 0), buttons.length - 1)].focus();
    }
  });

  // The guide card ----------------------------------------------------------------------------------------

  function renderMessage(text) {
    card.textContent = "";
    card.append(el("p", { class: "empty" }, text));
  }

  /** Text with its web addresses as links. */
  function linked(text) {
    const parts = [];
    let last = 0;
    for (const match of text.matchAll(URL_PATTERN)) {
      const url = match[0].replace(/[.,;:!?'")\]]+$/, "");
      const href = url.startsWith("www.") ? "http://" + url : url;
      parts.push(text.slice(last, match.index), el("a", { href, target: "_blank", rel: "noopener noreferrer" }, url));
      last = match.index + url.length;
    }
    parts.push(text.slice(last));
    return parts;
  }

  function cite(source) {
    const lines = source.first_line === source.last_line
      ? "第" + source.first_line + "行" : "第" + source.first_line + "–" + source.last_line + "行";
    return el("cite", { title: source.citation }, lines);
  }

  async function copy(text, what, button) {
    const focused = document.activeElement;
    let copied = false;
    try {
      await navigator.clipboard.writeText(text);
      copied = true;
    } catch (error) {
      const area = el("textarea", { class: "offscreen", readonly: true, "aria-hidden": "true" });
      area.value = text;
      document.body.append(area);
      area.select();
      copied = document.execCommand("copy");
      area.remove();
    }
    if (focused) focused.focus();
    if (!copied) {
      announce("复制失败，请手动选中文字复制。");
      return;
    }
    announce("已复制" + what + "。");
    const label = button.textContent;
    button.textContent = "已复制";
    setTimeout(() => { button.textContent = label; }, 1500);
  }

  function copyButton(label, text, what) {
    const button = el("button", { type: "button", class: "copy", "aria-label": label });
    button.textContent = "复制";
    button.addEventListener("click", () => copy(text, what, button));
    return button;
  }

  function block(key, title, ...content) {
    const asked = state.aspects.some((aspect) => ASPECT_BLOCKS[aspect] === key);
    return el("section", { class: "block" + (asked ? " asked" : ""), "data-block": key },
      el("h4", {}, title, asked ? el("span", { class: "badge" }, "来电所问") : null), ...content);
  }

  /** Facts as a numbered list, a bulleted one, or (for texts numbered by the document) a plain one. */
  function factList(facts, style) {
    return el(style === "numbered" ? "ol" : "ul", { class: "facts " + style }, facts.map((fact) => el("li", {},
      fact.condition ? el("span", { class: "condition" }, fact.condition) : null, linked(fact.text), " ",
      cite(fact.source))));
  }

  function phoneOwner(phone) {
    return [phone.unit || phone.hospital, phone.qualifier].filter(Boolean).join(" · ");
  }

  function phonesBlock(entry) {
    if (!entry.phones.length) return block("phones", "电话", el("p", { class: "none" }, "该文件未列此地区的电话（见下方资料说明）。"));
    const lines = [];
    const groups = PHONE_KINDS.filter(([kind]) => entry.phones.some((p) => p.kind === kind)).map(([kind, title]) => {
      const phones = entry.phones.filter((p) => p.kind === kind);
      lines.push(title + "：" + phones.map((p) => p.text + (phoneOwner(p) ? "（" + phoneOwner(p) + "）" : "")).join("、"));
      return el("div", { class: "phone-group" }, el("h5", {}, title), el("ul", { class: "phones" }, phones.map((p) =>
        el("li", {}, el("span", { class: "owner" }, phoneOwner(p)), el("strong", { class: "number" }, p.text),
          copyButton("复制电话 " + p.text, p.text, "电话 " + p.text), cite(p.source)))));
    });
    const all = copyButton("复制全部电话", lines.join("\n"), "全部电话");
    all.textContent = "复制全部";
    return block("phones", "电话", all, groups);
  }

  function materialsBlock(guide, entry) {
    if (!entry.materials.length) return block("materials", "办理材料", el("p", { class: "none" }, "该文件未列办理材料。"));
    const text = entry.name + "（" + guide.region.label + "）办理材料：\n" + entry.materials.map((m, i) =>
      (i + 1) + ". " + (m.condition ? "〔" + m.condition + "〕" : "") + m.text).join("\n") +
      "\n来源：" + entry.source.citation;
    const button = copyButton("复制材料清单", text, "材料清单");
    button.textContent = "复制材料清单";
    return block("materials", "办理材料", button, factList(entry.materials, "numbered"));
  }

  function listBlock(key, title, facts, style) {
    return facts.length ? block(key, title, factList(facts, style)) : null;
  }

  function formsBlock(entry) {
    if (!entry.forms.length) return null;
    return block("forms", "表格", el("ul", { class: "facts" }, entry.forms.map((form) => el("li", {},
      form.text, form.number ? "（" + form.number + "）" : "（未附样表）", " ", cite(form.source),
      (form.notes || []).length ? el("ul", { class: "form-notes" }, form.notes.map((note) =>
        el("li", {}, "表上提示：" + note.text + " ", cite(note.source)))) : null))));
  }

  function officesBlock(entry) {
    if (!entry.offices.length) return block("offices", "办理地点", el("p", { class: "none" }, "该文件未列此地区的办理地址。"));
    return block("offices", "办理地点", el("ul", { class: "facts" }, entry.offices.map((office) => el("li", {},
      office.unit ? el("span", { class: "owner" }, office.unit) : null, office.text, " ", cite(office.source)))));
  }

  function sectionsBlock(entry) {
    if (!entry.sections.length) return null;
    return block("sections", "其他栏目",
      el("details", { open: true }, el("summary", {}, entry.sections.map((s) => s.name).join("、")),
        el("dl", {}, entry.sections.map((s) => [
          el("dt", {}, s.name), el("dd", {}, linked(s.text), " ", cite(s.source))]))));
  }

  function entryArticle(guide, entry) {
    const code = entry.local_code || entry.code || entry.key;
    return el("article", { class: "entry" },
      el("h3", {}, entry.name, el("span", { class: "code" }, code + (entry.row ? " · 第" + entry.row + "项" : ""))),
      el("p", { class: "source" }, "来源：" + entry.source.citation),
      phonesBlock(entry),
      officesBlock(entry),
      materialsBlock(guide, entry),
      listBlock("time_limits", "办理时限", entry.time_limits, "bulleted"),
      listBlock("process", "办理流程", entry.process, "plain"),
      listBlock("online_channels", "线上渠道", entry.online_channels, "bulleted"),
      formsBlock(entry),
      listBlock("legal_basis", "设定依据", entry.legal_basis, "bulleted"),
      listBlock("notes", "备注", entry.notes, "bulleted"),
      sectionsBlock(entry));
  }

  function notices(guide) {
    const items = [];
    if (guide.absent) items.push(el("li", { class: "gap" }, guide.document.citation + "未列此事项。"));
    if (guide.merged_note) {
      items.push(el("li", { class: "gap" }, "该清单将此事项并入下列事项：" + guide.merged_note.text + " ",
        cite(guide.merged_note.source)));
    }
    for (const conflict of guide.conflicts) {
      items.push(el("li", { class: "conflict" },
        el("strong", {}, "与湖南省2025年版清单不一致：" + conflict.topic),
        el("ul", {}, conflict.statements.filter((s) => s.source.document === guide.document.id)
          .map((s) => el("li", {}, "本指南：" + s.text + " ", cite(s.source))),
          conflict.hunan2025 ? el("li", {}, "2025年版清单：" + conflict.hunan2025.text + " ",
            cite(conflict.hunan2025.source)) : null,
          conflict.note ? el("li", {}, "说明：" + conflict.note) : null)));
    }
    for (const gap of guide.gaps) {
      const offer = gap.offer.map((o) => OFFERS[o] || o).join("、");
      items.push(el("li", { class: "gap" }, el("strong", {}, "资料说明："), gap.statement,
        offer ? "（可引导至：" + offer + "）" : "", gap.evidence.map((e) => [" ", cite(e.source)])));
    }
    return items.length ? el("section", { class: "notes" }, el("h3", {}, "冲突与资料说明"),
      el("ul", { class: "notices" }, items)) : null;
  }

  function renderGuide(guide) {
    card.textContent = "";
    const parts = [
      el("header", {}, el("h2", {}, guide.name),
        el("p", { class: "meta" }, el("span", { class: "code" }, guide.code), el("span", {}, guide.region.label),
          el("span", {}, guide.document.citation))),
      ...guide.entries.map((entry) => entryArticle(guide, entry)),
      notices(guide),
    ];
    card.append(...parts.filter(Boolean));
    const asked = card.querySelector(".block.asked");
    if (asked) asked.scrollIntoView({ block: "nearest" });
  }

  async function openItem(code) {
    state.current = code;
    markCurrent();
    const region = regionId();
    if (!region) {
      renderMessage("请先选择地区，再查看办事指南。");
      city.focus();
      return;
    }
    const request = ++state.request;
    let guide;
    try {
      guide = await getJson("/api/guide?" + new URLSearchParams({ item: code, region }));
    } catch (error) {
      if (request === state.request) renderMessage(error.message);
      return;
    }
    if (request !== state.request) return;
    renderGuide(guide);
    const others = resultButtons().length - 1;
    const hint = others > 0 ? "。另有 " + others + " 个事项，按 ↓ 选择。" : "";
    announce("已打开：" + guide.name + " · " + guide.region.label + hint);
  }

  // Keyboard and controls ---------------------------------------------------------------------------------

  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
  query.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && resultButtons().length) {
      event.preventDefault();
      resultButtons()[0].focus();
    }
  });
  city.addEventListener("change", () => {
    fillCounties(city.value);
    pickRegion(city.value);
  });
  county.addEventListener("change", () => pickRegion(regionId()));
  $("new-call").addEventListener("click", () => {
    query.value = "";
    state.pinned = false;
    state.current = null;
    state.aspects = [];
    showRegion("");
    regionNote.textContent = "";
    renderResults([]);
    renderMessage("输入来电人所问的事项和地区，按 Enter 搜索。");
    announce("已清空，可以接听新来电。");
    query.focus();
  });
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest && event.target.closest("input, textarea, select");
    if (event.key === "/" && !typing) {
      event.preventDefault();
      query.focus();
      query.select();
    } else if (event.key === "Escape" && event.target !== query) {
      query.focus();
    }
  });

  loadRegions().then(() => query.focus(), (error) => announce("地区列表加载失败：" + error.message));
})();
