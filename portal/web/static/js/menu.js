// The 更多 (More) menu and the phone's 菜单 (Menu) are <details> disclosures: Escape closes an open
// one and returns focus to its button, and a click elsewhere closes it, as a menu button does
// (WAI-ARIA disclosure pattern). Without JavaScript they still open and close by their button.
(function () {
  "use strict";
  var menus = document.querySelectorAll(".nav-more details, details.nav-menu");
  Array.prototype.forEach.call(menus, function (menu) {
    var button = menu.querySelector("summary");
    menu.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || !menu.open) { return; }
      menu.open = false;
      button.focus();
      event.preventDefault();
      event.stopPropagation();  // an inner menu closes first, the outer one on the next Escape
    });
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) { menu.open = false; }
    });
  });
}());
