// "Near me": offers the browser's location and reloads the page from there (?at=LAT,LON).
(function () {
  "use strict";
  var button = document.getElementById("locate");
  var status = document.getElementById("locate-status");
  var messages = JSON.parse(document.getElementById("nearby-config").textContent);
  if (!button || !navigator.geolocation) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = messages["portal.nearby.locating"];
    navigator.geolocation.getCurrentPosition(function (position) {
      var params = new URLSearchParams(location.search);
      params.set("at", position.coords.latitude.toFixed(5) + "," + position.coords.longitude.toFixed(5));
      location.search = params.toString();
    }, function (error) {
      status.textContent = messages["portal.nearby.unavailable"] + " " + error.message;
    }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 60000 });
  });
})();
