// A namespaced object's key, "namespace/name" as client-go's MetaNamespaceKeyFunc makes it: the caches'
// and the write queue's key (a GameServer and its pod share one, OKG names them alike). Built and split
// only here, so no caller joins or parses the string itself.
export type ObjectKey = string & { readonly __objectKey: never };

export function objectKey(namespace: string, name: string): ObjectKey {
  return `${namespace}/${name}` as ObjectKey;
}

/** The key's namespace and name (client-go's SplitMetaNamespaceKey; names never contain "/"). */
export function splitObjectKey(key: ObjectKey): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
