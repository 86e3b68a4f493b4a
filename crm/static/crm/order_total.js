/*
 * The order form's total, quantity × price, while the manager types (crm.admin.fields.OrderPriceInput).
 * A static file because the Content-Security-Policy forbids inline scripts.
 *
 * The price is read by the rules of crm.money.parse_amount, the server's parser: digits, spaces between
 * thousands, one comma or point before at most two digits of kopecks. Whatever the server would refuse
 * (1.234,50, 1,234, letters) shows no total rather than a guess. Whole kopecks in BigInt: exact at any size.
 */
(function () {
  "use strict";

  var AMOUNT = /^([-+]?)([0-9]{1,3}(?: [0-9]{3})+|[0-9]*)(?:([.,])([0-9]*))?$/;
  var NO_TOTAL = "—";

  function priceInKopecks(text) {
    var match = AMOUNT.exec(text.replace(/[\u00a0\u202f\u2009]/g, " ").trim());
    if (!match || !(match[2] || match[4]) || match[1] === "-") {
      return null;
    }
    var whole = match[2];
    var fraction = match[4] || "";
    var ambiguous = match[3] && fraction.length === 3 && whole.length <= 3 && whole.charAt(0) !== "0";
    if (ambiguous || fraction.length > 2) {
      return null;
    }
    return BigInt(whole.replace(/ /g, "") || "0") * 100n + BigInt((fraction + "00").slice(0, 2));
  }

  function quantity(text) {
    var value = text.trim();
    return /^[0-9]+$/.test(value) && BigInt(value) > 0n ? BigInt(value) : null;
  }

  // As crm.money.format_money writes it in the page's language: "179 981,00 ₽" (non-breaking spaces).
  function formatMoney(kopecks, format) {
    var whole = (kopecks / 100n).toString().replace(/\B(?=([0-9]{3})+(?![0-9]))/g, format.thousandSeparator);
    var cents = (kopecks % 100n).toString().padStart(2, "0");
    return whole + format.decimalSeparator + cents + "\u00a0" + format.currencySign;
  }

  function update(output) {
    var quantityInput = document.getElementById(output.dataset.quantityInput);
    var priceInput = document.getElementById(output.dataset.priceInput);
    if (!quantityInput || !priceInput) {
      return;
    }
    var count = quantity(quantityInput.value);
    var price = priceInKopecks(priceInput.value);
    output.textContent = count === null || price === null ? NO_TOTAL : formatMoney(count * price, output.dataset);
  }

  function updateAll() {
    document.querySelectorAll("output[data-order-total]").forEach(update);
  }

  document.addEventListener("input", updateAll);
  document.addEventListener("change", updateAll);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", updateAll);
  } else {
    updateAll();
  }
})();
