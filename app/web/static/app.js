// Chat: send a message and read the answer as server-sent events from a POST (fetch
// streams), then show any action waiting for approval with Approve / Reject buttons.
// Text is always inserted with textContent, never as HTML.
(function () {
  "use strict";
  var page = document.querySelector("main.page");
  var csrf = page ? page.getAttribute("data-csrf") : "";
  var box = document.getElementById("messages");
  if (!box) return;
  var thread = box.getAttribute("data-thread");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-text");
  var approvals = document.getElementById("approvals");

  function bubble(cls, text) {
    var div = document.createElement("div");
    div.className = "msg " + cls;
    div.textContent = text;
    box.appendChild(div);
    div.scrollIntoView({ block: "end" });
    return div;
  }

  function showApprovals(list) {
    approvals.textContent = "";
    (list || []).forEach(function (a) {
      var card = document.createElement("div");
      card.className = "approval";
      card.setAttribute("data-call", a.tool_call_id);
      var p = document.createElement("p");
      var strong = document.createElement("strong");
      strong.textContent = "Approve? ";
      p.appendChild(strong);
      p.appendChild(document.createTextNode(a.summary || a.tool));
      if (a.note) { p.appendChild(document.createTextNode(" (" + a.note + ")")); }
      card.appendChild(p);
      [["approve", "Approve", "approve"], ["reject", "Reject", "reject secondary"]].forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.className = b[2];
        btn.setAttribute("data-decision", b[0]);
        btn.textContent = b[1];
        card.appendChild(btn);
      });
      approvals.appendChild(card);
    });
  }

  async function stream(url, payload, reply) {
    var resp = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(payload),
      credentials: "same-origin",
    });
    if (!resp.ok) {
      var err = await resp.json().catch(function () { return {}; });
      reply.textContent = (err.error && err.error.message) || "Something went wrong.";
      reply.classList.add("error");
      return;
    }
    var reader = resp.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    var streamed = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      var parts = buffer.split("\n\n");
      buffer = parts.pop();
      parts.forEach(function (raw) {
        var event = "message", data = "";
        raw.split("\n").forEach(function (line) {
          if (line.indexOf("event: ") === 0) event = line.slice(7);
          else if (line.indexOf("data: ") === 0) data += line.slice(6);
        });
        var body = data ? JSON.parse(data) : {};
        if (event === "token") {
          streamed += body.text;
          reply.textContent = streamed;
        } else if (event === "done") {
          (body.tools || []).forEach(function (t) { box.insertBefore(bubbleTool(t), reply); });
          if (body.reply) reply.textContent = body.reply;
          else if (!streamed) reply.remove();
          showApprovals(body.approvals);
        } else if (event === "error") {
          reply.textContent = body.message || "Something went wrong.";
          reply.classList.add("error");
        }
      });
    }
  }

  function bubbleTool(t) {
    var div = document.createElement("div");
    div.className = "msg tool";
    div.textContent = t.ok ? "Steve used " + t.tool : t.tool + ": " + (t.result || "failed");
    return div;
  }

  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    bubble("user", text);
    var reply = bubble("assistant", "…");
    await stream("/api/chat/threads/" + thread + "/stream", { text: text }, reply);
  });

  approvals.addEventListener("click", async function (ev) {
    var btn = ev.target.closest("button[data-decision]");
    if (!btn) return;
    var card = btn.closest(".approval");
    var decision = btn.getAttribute("data-decision");
    approvals.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    bubble("tool", decision === "approve" ? "You approved: " + card.querySelector("p").textContent.replace(/^Approve\? /, "") : "You rejected the action.");
    card.remove();
    var reply = bubble("assistant", "…");
    await stream("/api/chat/threads/" + thread + "/decision/stream",
      { decision: decision, tool_call_id: card.getAttribute("data-call") }, reply);
  });

  form.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
  });
})();
