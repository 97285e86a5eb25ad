package evidence

// SignDeliveryWith is Sign with another canonicaliser, for the test that
// shows why Sign uses exclusive c14n.
var SignDeliveryWith = signDelivery
