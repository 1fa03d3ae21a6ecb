/// The Kvorum server: placeholder until the runtime lands.
enum ServerPlaceholder {}
