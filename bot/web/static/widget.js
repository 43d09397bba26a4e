/* 医保办事助手 help widget. Embed with one tag:
 *   <script src="https://<host>/widget.js" data-rasa="/api/chat"></script>
 * data-rasa is the chat endpoint (resolved against the script's URL): this server's /api/chat, or any URL that
 * speaks Rasa's REST webhook protocol ({sender, message} → [{text, buttons}]). */
(function () {
  "use strict";

  const script = document.currentScript;
  const scriptUrl = new URL(script.src, location.href);
  const endpoint = new URL(script.dataset.rasa || "/api/chat", scriptUrl).href;
  const feedbackEndpoint = new URL("/api/feedback", scriptUrl).href;
  const STORE = "ybzs-widget";
  const MAX_KEPT = 100;
  const URL_PATTERN = /\b(?:https?:\/\/|www\.)[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+/g;
  const EXAMPLES = ["耒阳 异地安置备案要什么材料", "长沙 生育津贴要多久", "郴州 医保关系转移怎么办"];
  const WELCOME = "您好！我是医保办事助手，可以告诉您办理医保业务要带什么材料、去哪里办、打什么电话、要多久，" +
    "答案都出自官方办事指南。\n提问时请说出您参保的城市或区县，例如「耒阳 异地安置备案要什么材料」。";

  /** The server's answer to too many messages a minute (HTTP 429): its text tells the user to slow down. */
  class SlowDown extends Error {}

  function newSender() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORE));
      if (saved && typeof saved.sender === "string" && Array.isArray(saved.messages)) return saved;
    } catch (error) { /* unreadable or blocked storage: start a new conversation */ }
    return { sender: newSender(), messages: [], open: false };
  }

  const state = load();

  function save() {
    state.messages = state.messages.slice(-MAX_KEPT);
    try {
      localStorage.setItem(STORE, JSON.stringify(state));
    } catch (error) { /* storage full or blocked: the conversation lasts for this page only */ }
  }

  function escapeHtml(text) {
    const entities = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
    return text.replace(/[&<>"']/g, (c) => entities[c]);
  }

  /** The bot's text as HTML: escaped, web addresses as links, line breaks kept. */
  function formatText(text) {
    let html = "";
    let last = 0;
    for (const match of text.matchAll(URL_PATTERN)) {
      const url = match[0].replace(/[.,;:!?'")\]]+$/, "");
      const href = url.startsWith("www.") ? "http://" + url : url;
      html += escapeHtml(text.slice(last, match.index));
      html += '<a href="' + escapeHtml(href) + '" target="_blank" rel="noopener noreferrer">' +
        escapeHtml(url) + "</a>";
      last = match.index + url.length;
    }
    html += escapeHtml(text.slice(last));
    return html.replace(/\r?\n/g, "<br>");
  }

  const host = document.createElement("div");
  host.className = "ybzs-host";
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML = `
    <link rel="stylesheet" href="${escapeHtml(new URL("widget.css", scriptUrl).href)}">
    <div class="ybzs" lang="zh-CN">
      <button class="bubble" type="button" aria-label="打开医保办事助手" aria-expanded="false"
              aria-controls="ybzs-panel">
        <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
          <path d="M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0
                   .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z"/>
        </svg>
        <span>医保咨询</span>
      </button>
      <section class="panel" id="ybzs-panel" role="dialog" aria-labelledby="ybzs-title" hidden>
        <header>
          <div>
            <h2 id="ybzs-title">医保办事助手</h2>
            <p>材料 · 地点 · 电话 · 时限，答案出自官方办事指南</p>
          </div>
          <button class="reset" type="button" aria-label="清空对话，重新开始">新对话</button>
          <button class="close" type="button" aria-label="关闭助手（Esc）">×</button>
        </header>
        <div class="log" role="log" aria-live="polite" aria-label="对话记录" tabindex="0"></div>
        <div class="typing" role="status" aria-live="polite"></div>
        <form class="composer">
          <label class="sr" for="ybzs-input">输入您的问题（Enter 发送，Shift+Enter 换行）</label>
          <textarea id="ybzs-input" rows="1" maxlength="1000" enterkeyhint="send"
                    placeholder="请输入您的问题"></textarea>
          <button type="submit" aria-label="发送">发送</button>
        </form>
      </section>
    </div>`;

  const bubble = root.querySelector(".bubble");
  const panel = root.querySelector(".panel");
  const log = root.querySelector(".log");
  const typing = root.querySelector(".typing");
  const form = root.querySelector("form");
  const input = root.querySelector("textarea");
  let busy = false;

  function fitInput() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 96) + "px";
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function quickReplies(buttons, labelled) {
    const group = document.createElement("div");
    group.className = "quick";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", labelled);
    for (const button of buttons) {
      const element = document.createElement("button");
      element.type = "button";
      element.textContent = button.title;
      element.addEventListener("click", () => send(button.payload, button.title));
      group.appendChild(element);
    }
    return group;
  }

  function renderMessage(message, withButtons) {
    const bubbleElement = document.createElement("div");
    bubbleElement.className = "msg " + message.from + (message.error ? " error" : "");
    const who = document.createElement("span");
    who.className = "sr";
    who.textContent = message.from === "user" ? "您说：" : "助手：";
    const text = document.createElement("div");
    text.className = "text";
    text.innerHTML = formatText(message.text || "");
    bubbleElement.append(who, text);
    if (message.image) {
      const image = document.createElement("img");
      image.src = message.image;
      image.alt = "助手发送的图片";
      bubbleElement.appendChild(image);
    }
    log.appendChild(bubbleElement);
    if (withButtons && message.buttons && message.buttons.length) {
      log.appendChild(quickReplies(message.buttons, "快捷回复"));
    }
  }

  function renderAll() {
    log.textContent = "";
    renderMessage({ from: "bot", text: WELCOME }, false);
    if (!state.messages.length) {
      log.appendChild(quickReplies(EXAMPLES.map((q) => ({ title: q, payload: q })), "示例问题"));
    }
    const lastUser = state.messages.map((m) => m.from).lastIndexOf("user");
    state.messages.forEach((message, index) => renderMessage(message, index > lastUser));
    scrollToEnd();
  }

  /** 👍/👎 under the latest answer; 👎 asks for an optional reason in one line. */
  function feedbackBar() {
    const bar = document.createElement("div");
    bar.className = "feedback";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "这个回答有用吗？");
    const thank = (text) => {
      bar.textContent = text;
      bar.setAttribute("role", "status");
    };
    const rate = async (rating, comment) => {
      try {
        const response = await fetch(feedbackEndpoint, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(comment ? { sender: state.sender, rating, comment } : { sender: state.sender, rating }),
        });
        thank(response.ok ? "谢谢您的反馈！" : "反馈没有发送成功，请稍后再试。");
      } catch (error) {
        thank("反馈没有发送成功，请稍后再试。");
      }
    };
    const button = (label, name, onClick) => {
      const element = document.createElement("button");
      element.type = "button";
      element.textContent = label;
      element.setAttribute("aria-label", name);
      element.addEventListener("click", onClick);
      return element;
    };
    const reason = () => {
      const form = document.createElement("form");
      const field = document.createElement("input");
      field.maxLength = 200;
      field.placeholder = "哪里不对？（选填）";
      field.setAttribute("aria-label", "哪里不对？（选填）");
      const submit = document.createElement("button");
      submit.type = "submit";
      submit.textContent = "提交";
      form.append(field, submit);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        rate("down", field.value.trim());
      });
      bar.replaceChildren(form);
      field.focus();
    };
    bar.append(button("👍", "有用", () => rate("up")), button("👎", "没用", reason));
    return bar;
  }

  function setBusy(value) {
    busy = value;
    log.setAttribute("aria-busy", String(value));
    typing.innerHTML = value ? '<span class="dots" aria-hidden="true"><i></i><i></i><i></i></span>助手正在输入…' : "";
    if (value) scrollToEnd();
  }

  function addMessage(message, keep) {
    if (keep) {
      state.messages.push(message);
      save();
    }
    renderMessage(message, true);
    scrollToEnd();
  }

  async function send(payload, shown) {
    const text = payload.trim();
    if (!text || busy) return;
    log.querySelectorAll(".quick, .feedback").forEach((group) => group.remove());
    addMessage({ from: "user", text: shown || text }, true);
    setBusy(true);
    try {
      const response = await fetch(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender: state.sender, message: text }),
      });
      if (response.status === 429) {
        const problem = await response.json().catch(() => ({}));
        throw new SlowDown(problem.error || "您发消息太快了，请稍等一会儿再发。");
      }
      if (!response.ok) throw new Error("HTTP " + response.status);
      const replies = (await response.json()).filter((r) => r.text || r.image || (r.buttons && r.buttons.length));
      setBusy(false);
      if (!replies.length) {
        addMessage({ from: "bot", text: "抱歉，我没有听懂，请换个说法再试，例如：耒阳 异地安置备案要什么材料。" }, true);
      }
      for (const reply of replies) {
        addMessage({ from: "bot", text: reply.text || "", buttons: reply.buttons, image: reply.image }, true);
      }
      const last = replies[replies.length - 1];
      if (last && !(last.buttons && last.buttons.length)) {
        log.appendChild(feedbackBar());
        scrollToEnd();
      }
    } catch (error) {
      setBusy(false);
      const text = error instanceof SlowDown ? error.message : "抱歉，助手暂时连接不上，请稍后再试。";
      addMessage({ from: "bot", text, error: true }, false);
    }
    input.focus();
  }

  function open(focus) {
    panel.hidden = false;
    bubble.setAttribute("aria-expanded", "true");
    bubble.setAttribute("aria-label", "收起医保办事助手");
    state.open = true;
    save();
    scrollToEnd();
    if (focus) input.focus();
  }

  function close() {
    panel.hidden = true;
    bubble.setAttribute("aria-expanded", "false");
    bubble.setAttribute("aria-label", "打开医保办事助手");
    state.open = false;
    save();
    bubble.focus();
  }

  bubble.addEventListener("click", () => (panel.hidden ? open(true) : close()));
  root.querySelector(".close").addEventListener("click", close);
  root.querySelector(".reset").addEventListener("click", () => {
    state.sender = newSender();
    state.messages = [];
    save();
    renderAll();
    input.focus();
  });
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim() || busy) return;
    input.value = "";
    fitInput();
    send(text);
  });
  input.addEventListener("input", fitInput);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  renderAll();
  document.body.appendChild(host);
  if (state.open) open(false);
})();
