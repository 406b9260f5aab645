//! The dynamic client: every REST verb on [`DynamicObject`]s of any group/version/resource,
//! known only at run time (client-go's `dynamic.Interface`).
//!
//! ```no_run
//! # async fn example(client: kinformer_client::Client) -> kinformer_client::Result<()> {
//! use kinformer_client::dynamic::DynamicClient;
//! use kinformer_client::request::PostParams;
//! use kinformer_meta::{ApiResource, GroupVersionKind, Scope};
//! let deployments = ApiResource::from_gvk(
//!     &GroupVersionKind::new("apps", "v1", "Deployment"), "deployments", Scope::Namespaced);
//! let dynamic = DynamicClient::new(client);
//! let manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec: {}\n";
//! for object in kinformer_dynamic::from_yaml_documents(manifest).unwrap() {
//!     dynamic.resource(&deployments).namespace("default").create(&object, &PostParams::default()).await?;
//! }
//! # Ok(()) }
//! ```
//!
//! List items arrive without `kind` and `apiVersion`; the dynamic client fills them in from the
//! resource (or, when only a group/version/resource is known, from the list's own kind), so
//! every object it hands out knows its type.

use kinformer_dynamic::DynamicObject;
use kinformer_meta::{ApiResource, GroupVersionResource, ListMeta, ListOptions, ObjectList, Scope};
use serde::{Deserialize, Serialize};

use crate::api::{list_all_pages, DeleteResponse, RawApi};
use crate::error::{Error, Result};
use crate::request::{DeleteParams, GetParams, Patch, PatchParams, PostParams};
use crate::watch::{WatchConfig, WatchStream};
use crate::Client;

/// Entry point of the dynamic client.
#[derive(Clone, Debug)]
pub struct DynamicClient {
    client: Client,
}

impl DynamicClient {
    /// A dynamic client sending through `client`.
    pub fn new(client: Client) -> Self {
        DynamicClient { client }
    }

    /// The client underneath.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Verbs on the resource `resource` describes (all namespaces until
    /// [`DynamicResource::namespace`] narrows it).
    pub fn resource(&self, resource: &ApiResource) -> DynamicResource {
        DynamicResource::new(self.client.clone(), resource.clone(), None)
    }

    /// Verbs on a group/version/resource whose kind is not known; list items take their kind
    /// from the list (`DeploymentList` -> `Deployment`).
    pub fn resource_for(&self, gvr: &GroupVersionResource, scope: Scope) -> DynamicResource {
        let resource = ApiResource {
            group: gvr.group.clone(),
            version: gvr.version.clone(),
            kind: String::new(),
            plural: gvr.resource.clone(),
            scope,
        };
        DynamicResource::new(self.client.clone(), resource, None)
    }
}

/// Every REST verb on one resource, in one namespace or across all of them.
#[derive(Clone, Debug)]
pub struct DynamicResource {
    resource: ApiResource,
    raw: RawApi,
}

impl DynamicResource {
    crate::api::resource_handle_methods!(DynamicResource);

    /// Reads one object.
    pub async fn get(&self, name: &str) -> Result<DynamicObject> {
        let object = self.raw.get(name, &GetParams::default()).await?;
        Ok(self.filled(object))
    }

    /// One list page; every item carries kind and apiVersion.
    pub async fn list(&self, options: &ListOptions) -> Result<ObjectList<DynamicObject>> {
        let page: DynamicList = self.raw.list_as(options).await?;
        Ok(self.filled_list(page))
    }

    /// Every page of a list (see [`list_all_pages`]).
    pub async fn list_all(&self, options: &ListOptions) -> Result<ObjectList<DynamicObject>> {
        list_all_pages(options, |page| async move { self.list(&page).await }).await
    }

    /// Creates an object. Missing kind/apiVersion are filled from the resource.
    pub async fn create(
        &self,
        object: &DynamicObject,
        params: &PostParams,
    ) -> Result<DynamicObject> {
        let object = self.with_types(object);
        let created = self.raw.create(&object, params).await?;
        Ok(self.filled(created))
    }

    /// Replaces an object (client-go's `Update`): the name comes from its metadata.
    pub async fn update(
        &self,
        object: &DynamicObject,
        params: &PostParams,
    ) -> Result<DynamicObject> {
        let name = object_name(object)?;
        let object = self.with_types(object);
        let updated = self.raw.replace(name, None, &object, params).await?;
        Ok(self.filled(updated))
    }

    /// Replaces the status subresource (client-go's `UpdateStatus`).
    pub async fn update_status(
        &self,
        object: &DynamicObject,
        params: &PostParams,
    ) -> Result<DynamicObject> {
        let name = object_name(object)?;
        let object = self.with_types(object);
        let updated = self
            .raw
            .replace(name, Some("status"), &object, params)
            .await?;
        Ok(self.filled(updated))
    }

    /// Patches an object with any patch type.
    pub async fn patch<P: Serialize>(
        &self,
        name: &str,
        patch: &Patch<P>,
        params: &PatchParams,
    ) -> Result<DynamicObject> {
        let patched = self.raw.patch(name, None, patch, params).await?;
        Ok(self.filled(patched))
    }

    /// Deletes an object.
    pub async fn delete(
        &self,
        name: &str,
        params: &DeleteParams,
    ) -> Result<DeleteResponse<DynamicObject>> {
        Ok(match self.raw.delete(name, params).await? {
            DeleteResponse::Pending(object) => DeleteResponse::Pending(self.filled(object)),
            DeleteResponse::Deleted(status) => DeleteResponse::Deleted(status),
        })
    }

    /// Deletes every object the list options select.
    pub async fn delete_collection(
        &self,
        params: &DeleteParams,
        options: &ListOptions,
    ) -> Result<DeleteResponse<ObjectList<DynamicObject>>> {
        Ok(
            match self
                .raw
                .delete_collection_as::<DynamicList>(params, options)
                .await?
            {
                DeleteResponse::Pending(list) => DeleteResponse::Pending(self.filled_list(list)),
                DeleteResponse::Deleted(status) => DeleteResponse::Deleted(status),
            },
        )
    }

    /// Starts a watch; event objects carry kind and apiVersion.
    pub async fn watch(&self, options: &ListOptions) -> Result<WatchStream<DynamicObject>> {
        let config = WatchConfig::for_server_timeout(options.timeout_seconds);
        self.watch_with(options, config).await
    }

    /// Starts a watch with explicit stream settings.
    pub async fn watch_with(
        &self,
        options: &ListOptions,
        config: WatchConfig,
    ) -> Result<WatchStream<DynamicObject>> {
        let stream = self.raw.watch(options, config).await?;
        let resource = self.resource.clone();
        Ok(stream.with_object_hook(move |object: &mut DynamicObject| {
            if !resource.kind.is_empty() {
                object.fill_types(&resource);
            }
        }))
    }

    fn with_types(&self, object: &DynamicObject) -> DynamicObject {
        let mut object = object.clone();
        if !self.resource.kind.is_empty() {
            object.fill_types(&self.resource);
        }
        object
    }

    fn filled(&self, mut object: DynamicObject) -> DynamicObject {
        if !self.resource.kind.is_empty() {
            object.fill_types(&self.resource);
        }
        object
    }

    fn filled_list(&self, list: DynamicList) -> ObjectList<DynamicObject> {
        let mut resource = self.resource.clone();
        if resource.kind.is_empty() {
            resource.kind = list
                .kind
                .as_deref()
                .and_then(|kind| kind.strip_suffix("List"))
                .unwrap_or_default()
                .to_owned();
        }
        let items = list
            .items
            .into_iter()
            .map(|mut item| {
                if !resource.kind.is_empty() {
                    item.fill_types(&resource);
                }
                item
            })
            .collect();
        ObjectList {
            metadata: list.metadata,
            items,
        }
    }
}

/// A list page that keeps the list's own kind, to name its items' kind when needed.
#[derive(Deserialize)]
struct DynamicList {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: ListMeta,
    #[serde(
        default,
        deserialize_with = "kinformer_meta::object_meta::null_as_default"
    )]
    items: Vec<DynamicObject>,
}

fn object_name(object: &DynamicObject) -> Result<&str> {
    match object.metadata.name.as_deref() {
        Some(name) if !name.is_empty() => Ok(name),
        _ => Err(Error::InvalidRequest(
            "an update needs the object's metadata.name".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kinformer_meta::GroupVersionKind;

    fn dynamic() -> DynamicClient {
        let config = crate::Config::new("http://127.0.0.1:1".parse().unwrap());
        DynamicClient::new(Client::try_from(config).unwrap())
    }

    fn deployments() -> ApiResource {
        ApiResource::from_gvk(
            &GroupVersionKind::new("apps", "v1", "Deployment"),
            "deployments",
            Scope::Namespaced,
        )
    }

    #[test]
    fn list_items_get_kind_and_api_version_from_the_resource() {
        let resource = dynamic().resource(&deployments());
        let page: DynamicList = serde_json::from_str(
            r#"{"kind":"DeploymentList","apiVersion":"apps/v1","metadata":{"resourceVersion":"7"},"items":[{"metadata":{"name":"a"},"spec":{"replicas":1}}]}"#,
        )
        .unwrap();
        let list = resource.filled_list(page);
        let types = list.items[0].types.as_ref().unwrap();
        assert_eq!(
            (types.api_version.as_str(), types.kind.as_str()),
            ("apps/v1", "Deployment")
        );
        assert_eq!(list.resource_version(), Some("7"));
    }

    #[test]
    fn a_gvr_only_resource_takes_the_kind_from_the_list() {
        let gvr = GroupVersionResource::new("wardle.example.com", "v1alpha1", "flunders");
        let resource = dynamic()
            .resource_for(&gvr, Scope::Namespaced)
            .namespace("default");
        assert_eq!(
            resource.request().collection_path(),
            "/apis/wardle.example.com/v1alpha1/namespaces/default/flunders"
        );
        let page: DynamicList =
            serde_json::from_str(r#"{"kind":"FlunderList","items":[{"metadata":{"name":"f1"}}]}"#)
                .unwrap();
        let list = resource.filled_list(page);
        let types = list.items[0].types.as_ref().unwrap();
        assert_eq!(types.kind, "Flunder");
        assert_eq!(types.api_version, "wardle.example.com/v1alpha1");
    }

    #[test]
    fn cluster_scoped_resources_ignore_the_namespace() {
        let nodes = ApiResource::from_gvk(
            &GroupVersionKind::new("", "v1", "Node"),
            "nodes",
            Scope::Cluster,
        );
        let resource = dynamic().resource(&nodes).namespace("ns");
        assert_eq!(resource.request().collection_path(), "/api/v1/nodes");
        assert_eq!(resource.namespace_name(), None);
    }

    #[tokio::test]
    async fn update_without_a_name_is_a_typed_error() {
        let resource = dynamic().resource(&deployments()).namespace("ns");
        let error = resource
            .update(&DynamicObject::default(), &PostParams::default())
            .await
            .unwrap_err();
        assert!(matches!(error, Error::InvalidRequest(_)));
    }
}
