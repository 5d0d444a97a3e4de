/* Loaded on pages with stored widget state, between require.js and the widget
 * manager's embed-amd.js (see nb_ipywidgets_js in _config.yml).
 *
 * 1. The widget manager finds its fonts relative to a webpack "public path" that it
 *    derives from its AMD module's URL, which require.js resolves next to the *page*
 *    (e.g. chapters/@jupyter-widgets/html-manager/dist/), not next to embed-amd.js.
 *    Map that module path to the vendored copy in _static/vendor/html-manager/.
 * 2. ipywidgets typesets widget labels with the MathJax 2 API (MathJax.Hub.Queue);
 *    the book runs MathJax 3. Provide a tiny MathJax.Hub.Queue that forwards to
 *    MathJax 3's typesetPromise, so labels like "$x$" render and nothing throws.
 */
(function () {
  "use strict";
  var here = document.currentScript && document.currentScript.src;
  if (here) {
    var vendor = new URL("vendor/html-manager/", here).href;
    window.__jupyter_widgets_assets_path__ = vendor;
    if (window.requirejs) {
      // module.uri of "@jupyter-widgets/html-manager/dist/libembed-amd" -> vendor dir
      window.requirejs.config({
        paths: {"@jupyter-widgets/html-manager/dist": vendor.replace(/\/$/, "")}
      });
    }
  }

  function installHub() {
    var MJ = window.MathJax;
    if (!MJ || !MJ.version || MJ.Hub) return;  // not loaded yet, or MathJax 2
    MJ.Hub = {
      Queue: function () {
        for (var i = 0; i < arguments.length; i++) {
          var cmd = arguments[i];
          if (Array.isArray(cmd) && cmd[0] === "Typeset") {
            var el = cmd[2];
            MJ.startup.promise = MJ.startup.promise
              .then(function () { return MJ.typesetPromise(el ? [el] : undefined); })
              .catch(function (err) { console.warn("MathJax typeset failed:", err); });
          }
        }
      }
    };
  }
  installHub();
  // MathJax is a deferred script: it has run by the time DOMContentLoaded fires,
  // and the widget manager renders after that.
  document.addEventListener("DOMContentLoaded", installHub);
})();
