/// The Kvorum HTTP client: placeholder until it lands.
enum ClientPlaceholder {}
