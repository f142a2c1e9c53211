// The gallery's inline CSS and JS. System fonts only: the page makes no request beyond its own folder.

export const GALLERY_CSS = `
:root{--bg:#f3f4f6;--panel:#fff;--ink:#1b1f27;--muted:#5d6675;--line:#dde1e7;--accent:#2f5bd3;--bad:#c62828;--bad-bg:#fdecec;--ok:#1d7a46;--card:200px}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
a{color:var(--accent)}
header{background:var(--panel);border-bottom:1px solid var(--line);padding:18px 24px 0}
h1{margin:0 0 12px;font-size:22px;font-weight:650}
h1 small{font-size:14px;font-weight:400;color:var(--muted);margin-left:6px}
.summary{display:flex;flex-wrap:wrap;align-items:center;gap:12px 36px;margin-bottom:14px}
.tiles{display:flex;gap:10px;flex-wrap:wrap}
.tile{border:1px solid var(--line);border-radius:10px;padding:6px 14px;min-width:92px;background:#fafbfc}
.tile b{display:block;font-size:24px;line-height:1.15}
.tile span{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.tile.done b{color:var(--ok)}.tile.failed{border-color:#f0b4b4;background:var(--bad-bg)}.tile.failed b{color:var(--bad)}
.tile.pending b{color:#a36100}
.facts{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:0}
.facts dt{color:var(--muted)}.facts dd{margin:0;font-weight:550}
.failures{border:1px solid #f0b4b4;background:var(--bad-bg);border-radius:10px;padding:8px 14px;margin-bottom:12px}
.failures h2{font-size:14px;margin:0 0 4px;color:var(--bad)}
.failures ul{margin:0;padding-left:18px;max-height:9.5em;overflow:auto}
.kind{display:inline-block;background:var(--bad);color:#fff;border-radius:4px;padding:0 6px;font-size:11.5px;font-weight:600;margin:0 4px}
.toolbar{position:sticky;top:0;z-index:2;display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;background:var(--panel);padding:10px 0 12px;border-top:1px solid var(--line)}
.toolbar input[type=search]{width:320px;max-width:100%;padding:6px 10px;border:1px solid #c4cad3;border-radius:8px;font:inherit}
#shown{color:var(--muted)}
.jump{display:flex;flex-wrap:wrap;gap:4px 12px;margin-left:auto}
main{padding:8px 24px 40px}
.group h2{font-size:18px;margin:22px 0 10px;font-weight:650}
.group h2 small{font-size:13px;font-weight:400;color:var(--muted);margin-left:6px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,var(--card));gap:14px}
.scroll{overflow-x:auto}
table.matrix{border-collapse:separate;border-spacing:10px 8px;margin:-8px -10px}
.matrix th{font-weight:600;text-align:left;color:#39414f;vertical-align:middle;font-size:13px}
.matrix thead th{padding:0 4px}
.matrix th[scope=row]{padding-right:6px;white-space:nowrap}
.matrix th.corner{color:var(--muted);font-weight:400;font-size:12px;line-height:1.3}
.matrix th.corner span{display:block}
.matrix td{vertical-align:top;padding:0}
.matrix td .card+.card{margin-top:10px}
.card{width:var(--card);margin:0;background:var(--panel);border:1px solid var(--line);border-radius:10px;overflow:hidden;box-shadow:0 1px 2px rgba(16,24,40,.06);content-visibility:auto;contain-intrinsic-size:auto var(--card) auto 340px}
.card.failed{border:2px solid var(--bad)}
.thumb{display:flex;align-items:center;justify-content:center;width:100%;aspect-ratio:1;background:#e9ecf0 conic-gradient(#dfe3e8 25%,#eef0f3 0 50%,#dfe3e8 0 75%,#eef0f3 0) 0 0/16px 16px}
.thumb img{width:100%;height:100%;object-fit:contain;display:block}
.thumb.fail{flex-direction:column;gap:6px;background:var(--bad-bg);color:var(--bad);padding:14px;text-align:center}
.thumb.fail strong{font-size:14px}
.thumb.fail .reason{color:#7f1d1d;font-size:13px;overflow-wrap:anywhere}
.thumb.empty{background:#eef0f3;color:var(--muted);padding:14px;text-align:center;font-size:12.5px}
figcaption{padding:8px 10px 10px;font-size:12.5px;overflow-wrap:anywhere}
.coords{font-weight:650;margin-bottom:3px}
.prompt{margin:0 0 5px;display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow:hidden}
.meta,.params,.files{color:var(--muted);font-size:12px}
.params{display:flex;flex-wrap:wrap;gap:0 10px}.params span{white-space:nowrap}
.meta b,.params b{color:#323a48;font-weight:600}
.files{margin-top:3px}.files a{margin-left:4px}
.path{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:11px}
#lightbox{position:fixed;inset:0;z-index:5;background:rgba(12,14,20,.9);display:flex;flex-direction:column;align-items:center;justify-content:center;padding:24px;gap:12px}
#lightbox img{max-width:94vw;max-height:74vh;object-fit:contain;background:#fff}
#lightbox .lb-caption{max-width:760px;color:#e8ebf0}
#lightbox .lb-caption .prompt{-webkit-line-clamp:unset;font-size:14px}
#lightbox .lb-caption .meta,#lightbox .lb-caption .params,#lightbox .lb-caption .files,#lightbox .lb-caption b{color:#c3c9d4}
#lightbox .lb-caption a{color:#9dbbff}
#lightbox .close{position:absolute;top:10px;right:16px;font-size:30px;background:none;border:0;color:#fff;cursor:pointer}
`;

// Filter (words in any order, failed only) and a lightbox with ←/→ over the visible cards.
// Modified clicks (Ctrl, ⌘, middle) still open the full image as a plain link.
export const GALLERY_JS = `
(function () {
  var cards = Array.prototype.slice.call(document.querySelectorAll('.card'));
  var groups = Array.prototype.slice.call(document.querySelectorAll('.group'));
  var rows = Array.prototype.slice.call(document.querySelectorAll('.matrix tbody tr'));
  var q = document.getElementById('q'), onlyFailed = document.getElementById('only-failed'), shown = document.getElementById('shown');
  var texts = null, timer = 0;
  function apply() {
    if (!texts) texts = cards.map(function (c) { return c.textContent.toLowerCase(); });
    var words = q.value.toLowerCase().split(/\\s+/).filter(Boolean), failed = onlyFailed.checked, n = 0;
    cards.forEach(function (c, i) {
      var show = (!failed || c.dataset.state === 'failed') && words.every(function (w) { return texts[i].indexOf(w) >= 0; });
      c.hidden = !show;
      if (show) n++;
    });
    rows.forEach(function (r) { r.hidden = !r.querySelector('.card:not([hidden])'); });
    groups.forEach(function (g) { g.hidden = !g.querySelector('.card:not([hidden])'); });
    shown.textContent = n + ' shown';
  }
  q.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(apply, 120); });
  onlyFailed.addEventListener('change', apply);

  var box = document.getElementById('lightbox'), big = box.querySelector('img'), cap = box.querySelector('.lb-caption'), current = null;
  function open(card) {
    var link = card.querySelector('a.thumb');
    if (!link) return;
    current = card;
    big.src = link.getAttribute('href');
    big.alt = card.querySelector('.path').textContent;
    cap.replaceChildren(card.querySelector('figcaption').cloneNode(true));
    box.hidden = false;
  }
  function step(d) {
    var list = cards.filter(function (c) { return !c.hidden && c.querySelector('a.thumb'); });
    var i = list.indexOf(current);
    if (i >= 0 && list[i + d]) open(list[i + d]);
  }
  function close() { box.hidden = true; big.removeAttribute('src'); current = null; }
  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('a.thumb');
    if (a && !box.contains(a) && e.button === 0 && !e.ctrlKey && !e.metaKey && !e.shiftKey && !e.altKey) {
      e.preventDefault();
      open(a.closest('.card'));
    } else if (!box.hidden && (e.target === box || e.target.classList.contains('close'))) close();
  });
  document.addEventListener('keydown', function (e) {
    if (box.hidden) return;
    if (e.key === 'Escape') close();
    else if (e.key === 'ArrowRight') step(1);
    else if (e.key === 'ArrowLeft') step(-1);
  });
})();
`;
