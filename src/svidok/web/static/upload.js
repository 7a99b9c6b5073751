// Svidok upload page: many files, per-file progress, resumable (tus protocol, tus-js-client).
(function () {
  "use strict";
  var root = document.getElementById("upload");
  if (!root || !window.tus) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var endpoint = root.dataset.endpoint;
  var limit = Number(root.dataset.limit);
  var list = document.querySelector("#upload-list tbody");
  var input = document.getElementById("upload-files");
  var zone = document.getElementById("dropzone");
  var kind = document.getElementById("upload-kind");

  function human(n) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(n)) + " " + units[i];
  }

  function row(file) {
    var tr = document.createElement("tr");
    var name = document.createElement("td"); name.textContent = file.name;
    var size = document.createElement("td"); size.textContent = human(file.size);
    var bar = document.createElement("progress"); bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    var barCell = document.createElement("td"); barCell.appendChild(bar);
    var status = document.createElement("td"); status.textContent = root.dataset.msgWaiting;
    status.className = "upload-status";
    tr.append(name, size, barCell, status);
    list.appendChild(tr);
    return { bar: bar, status: status, tr: tr };
  }

  function finished(ui, url) {
    // the upload's state names the item it became
    fetch(url, { headers: { "Accept": "application/json", "X-CSRF-Token": csrf, "Tus-Resumable": "1.0.0" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        ui.status.textContent = root.dataset.msgDone + " ";
        ui.tr.classList.add("done");
        if (body && body.record) {
          var a = document.createElement("a");
          a.href = "/cases/" + encodeURIComponent(root.dataset.case) + "/items/" + encodeURIComponent(body.record);
          a.textContent = root.dataset.msgOpen;
          ui.status.appendChild(a);
        }
      })
      .catch(function () { ui.status.textContent = root.dataset.msgDone; });
  }

  function start(file) {
    var ui = row(file);
    if (file.size > limit) { ui.status.textContent = root.dataset.msgTooLarge; ui.tr.classList.add("failed"); return; }
    if (file.size === 0) { ui.status.textContent = root.dataset.msgEmpty; ui.tr.classList.add("failed"); return; }
    var upload = new tus.Upload(file, {
      endpoint: endpoint,
      chunkSize: 8 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
      removeFingerprintOnSuccess: true,
      headers: { "X-CSRF-Token": csrf },
      metadata: { filename: file.name, title: file.name, item_kind: kind.value },
      onProgress: function (sent, total) {
        ui.bar.value = total ? Math.floor(sent * 100 / total) : 0;
        ui.status.textContent = sent === total ? root.dataset.msgHashing : Math.floor(sent * 100 / total) + " %";
      },
      onError: function (error) {
        ui.tr.classList.add("failed");
        var detail = "";
        if (error && error.originalResponse) {
          try { detail = JSON.parse(error.originalResponse.getBody()).error.message; } catch (e) { detail = ""; }
        }
        ui.status.textContent = root.dataset.msgFailed + (detail ? ": " + detail : "");
      },
      onSuccess: function () { ui.bar.value = 100; finished(ui, upload.url); }
    });
    upload.findPreviousUploads().then(function (previous) {
      if (previous.length) { ui.status.textContent = root.dataset.msgResumed; upload.resumeFromPreviousUpload(previous[0]); }
      upload.start();
    });
  }

  function take(files) { for (var i = 0; i < files.length; i++) { start(files[i]); } }
  input.addEventListener("change", function () { take(input.files); input.value = ""; });
  zone.addEventListener("click", function () { input.click(); });
  zone.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
  ["dragenter", "dragover"].forEach(function (n) { zone.addEventListener(n, function (e) { e.preventDefault(); zone.classList.add("over"); }); });
  ["dragleave", "drop"].forEach(function (n) { zone.addEventListener(n, function (e) { e.preventDefault(); zone.classList.remove("over"); }); });
  zone.addEventListener("drop", function (e) { if (e.dataTransfer && e.dataTransfer.files) { take(e.dataTransfer.files); } });
})();
