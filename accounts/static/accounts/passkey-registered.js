// Once django-otp-webauthn has saved a new passkey, go on to the recovery codes, which a
// first passkey needs as much as an authenticator app does.
document.addEventListener("otp_webauthn.register_complete", function (event) {
  window.location.assign(event.target.dataset.doneUrl);
});
