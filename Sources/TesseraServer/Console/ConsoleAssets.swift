/// The console's stylesheet and its one script, served from `/console/static/` so the
/// Content-Security-Policy can forbid inline styles and scripts.
enum ConsoleAssets {
    static let stylesheet = """
        :root { --ink: #1d2433; --muted: #5b6475; --line: #d9dee8; --accent: #2456c9; --danger: #b42318; --ok: #127a3a; --bg: #f6f7fb; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
        .bar { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .5rem 1rem;
               padding: .75rem 1.25rem; background: #101828; color: #fff; }
        .bar a, .bar .link { color: #fff; text-decoration: none; }
        .brand { font-weight: 700; letter-spacing: .02em; }
        nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: center; }
        main { max-width: 1100px; margin: 0 auto; padding: 1.25rem; }
        h1 { font-size: 1.6rem; margin: .5rem 0 1rem; } h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 1.25rem; margin: 1rem 0; }
        .narrow { max-width: 34rem; }
        .columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; }
        label { display: block; margin: .75rem 0; font-weight: 600; }
        label.check { font-weight: 400; }
        input, select, textarea { display: block; width: 100%; margin-top: .25rem; padding: .55rem .65rem; font: inherit;
               border: 1px solid var(--line); border-radius: 6px; background: #fff; }
        label.check input { display: inline; width: auto; }
        textarea { font-family: ui-monospace, monospace; font-size: .85rem; }
        button, .button { display: inline-block; padding: .55rem 1.1rem; font: inherit; font-weight: 600; color: #fff; background: var(--accent);
               border: 0; border-radius: 6px; cursor: pointer; text-decoration: none; }
        button.danger, a.danger { background: none; color: var(--danger); padding: 0; font-weight: 600; }
        form .actions button.danger { background: var(--danger); color: #fff; padding: .55rem 1.1rem; }
        button.link { background: none; padding: 0; font-weight: 400; }
        form.inline { display: inline; }
        .inline-form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; } .inline-form label { margin: 0; }
        .scroll { overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: 10px; }
        table { border-collapse: collapse; width: 100%; font-size: .92rem; }
        th, td { text-align: left; padding: .55rem .75rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { color: var(--muted); font-weight: 600; white-space: nowrap; }
        code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
        .fingerprint { word-break: break-all; }
        pre { background: #0f172a; color: #e2e8f0; padding: 1rem; border-radius: 8px; overflow-x: auto; }
        .notice { background: #ecfdf3; border: 1px solid #abefc6; padding: .6rem .9rem; border-radius: 6px; }
        .error { background: #fef3f2; border: 1px solid #fecdca; color: var(--danger); padding: .6rem .9rem; border-radius: 6px; }
        .field-error { margin: -.35rem 0 .8rem; padding: .35rem .7rem; font-size: .9rem; }
        [aria-invalid="true"] { border-color: var(--danger); box-shadow: 0 0 0 1px var(--danger); }
        .status.expiring { background: #fffaeb; color: #b54708; }
        .warning { background: #fffaeb; border: 1px solid #fedf89; padding: .6rem .9rem; border-radius: 6px; }
        .secret-row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
        .copy-status { color: #067647; font-size: .9rem; }
        .copy-status.failed { color: var(--danger); }
        .secret-row code { padding: .5rem .7rem; background: #f2f4f7; border-radius: 6px; word-break: break-all; font-size: 1rem; }
        .status { padding: .1rem .5rem; border-radius: 99px; font-size: .8rem; background: #f2f4f7; }
        .status.active, .status.success, .status.signing { background: #ecfdf3; color: var(--ok); }
        .status.revoked, .status.refused, .status.expired, .status.disabled { background: #fef3f2; color: var(--danger); }
        .hint, .empty { color: var(--muted); font-size: .9rem; }
        details.menu { display: inline-block; position: relative; margin: .5rem 0 1rem; }
        details.menu summary { list-style: none; cursor: pointer; padding: .55rem 1.1rem; color: #fff; background: var(--accent); border-radius: 6px; font-weight: 600; }
        details.menu a { display: block; padding: .4rem .9rem; background: #fff; border: 1px solid var(--line); text-decoration: none; color: var(--ink); }
        .tiles { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: .75rem; }
        .tiles a { display: block; padding: 1rem; background: #fff; border: 1px solid var(--line); border-radius: 10px; text-decoration: none; color: var(--accent); font-weight: 600; }
        fieldset { border: 1px solid var(--line); border-radius: 6px; }
        .subnav { margin-bottom: 1rem; border-bottom: 1px solid var(--line); padding-bottom: .5rem; }
        .subnav ul, .breadcrumbs { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: .35rem 1rem; }
        .breadcrumbs { font-size: .85rem; color: var(--muted); margin-bottom: .4rem; }
        .breadcrumbs li + li::before { content: "›"; margin-right: .4rem; color: var(--muted); }
        .subnav a.current { font-weight: 700; text-decoration: none; color: var(--ink); }
        code { overflow-wrap: anywhere; }
        pre { max-width: 100%; }
        @media (max-width: 600px) {
          main { padding: .75rem; } h1 { font-size: 1.35rem; }
          /* Tables become stacked cards: each row a card, each cell labelled with its column
             (console.js copies the header into data-label). */
          .scroll { overflow-x: visible; border: 0; background: none; }
          .scroll table, .scroll tbody, .scroll tr, .scroll td { display: block; }
          .scroll thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
          .scroll tr { background: #fff; border: 1px solid var(--line); border-radius: 10px; margin-bottom: .6rem; padding: .35rem 0; }
          .scroll td { border: 0; padding: .25rem .75rem; overflow-wrap: anywhere; }
          .scroll td[data-label]::before { content: attr(data-label); display: block; color: var(--muted); font-size: .78rem; font-weight: 600; }
        }
        """

    static let favicon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#101828"/>\
        <path d="M8 9h16v4h-6v12h-4V13H8z" fill="#fff"/></svg>
        """

    /// Table cells get their column's name (`data-label`) for the narrow-screen layout. Copy
    /// buttons (`data-copy` names the element whose text is copied): the clipboard API
    /// exists only in a secure context (HTTPS or localhost); elsewhere, or if it refuses, the text
    /// is selected and copied the old way, and the button's status always says what happened:
    /// "Copied", or that the text is selected for Ctrl+C / ⌘C.
    static let script = """
        "use strict";
        // Each body cell is labelled with its column's header, for the stacked layout of narrow screens.
        document.querySelectorAll("table").forEach(function (table) {
          var headers = Array.prototype.map.call(table.querySelectorAll("thead th"), function (cell) { return cell.textContent.trim(); });
          table.querySelectorAll("tbody tr").forEach(function (row) {
            Array.prototype.forEach.call(row.children, function (cell, index) {
              if (headers[index]) { cell.setAttribute("data-label", headers[index]); }
            });
          });
        });
        function selectText(element) {
          var range = document.createRange();
          range.selectNodeContents(element);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
        }
        function copyStatus(button, text, failed) {
          var status = button.parentNode.querySelector(".copy-status");
          if (!status) {
            status = document.createElement("span");
            status.className = "copy-status";
            status.setAttribute("role", "status");
            status.id = button.getAttribute("data-copy") + "-status";
            button.insertAdjacentElement("afterend", status);
          }
          status.textContent = text;
          status.classList.toggle("failed", failed);
        }
        function copyBySelection(button, source) {
          selectText(source);
          var copied = false;
          try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
          if (copied) {
            copyStatus(button, "Copied", false);
          } else {
            copyStatus(button, "Copy failed: the text is selected, press Ctrl+C (⌘C on a Mac)", true);
          }
        }
        document.addEventListener("click", function (event) {
          var button = event.target.closest("[data-copy]");
          if (!button) { return; }
          var source = document.getElementById(button.getAttribute("data-copy"));
          if (!source) { return; }
          if (window.isSecureContext && navigator.clipboard) {
            navigator.clipboard.writeText(source.textContent.trim()).then(function () {
              copyStatus(button, "Copied", false);
            }, function () {
              copyBySelection(button, source);
            });
          } else {
            copyBySelection(button, source);
          }
        });
        """
}
