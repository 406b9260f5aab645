//! apiextensions.k8s.io/v1: `CustomResourceDefinition`. Schemas stay JSON values: they are
//! large, recursive and read by few.

use kinformer_meta::{ApiResource, GroupVersionKind, Scope, Time};

typed_object! {
    /// A CustomResourceDefinition: a new resource type served by the API server.
    pub struct CustomResourceDefinition {
        resource: {
            group: "apiextensions.k8s.io", version: "v1", api_version: "apiextensions.k8s.io/v1",
            kind: "CustomResourceDefinition", plural: "customresourcedefinitions", scope: Cluster,
        },
        debug: derive,
        body: {
            /// The definition.
            "spec" => spec: Box<CustomResourceDefinitionSpec> as CustomResourceDefinitionSpec,
                spec_mut, set_spec;
            /// Acceptance and stored versions.
            "status" => status: Box<CustomResourceDefinitionStatus>
                as CustomResourceDefinitionStatus, status_mut, set_status;
        }
    }
}

api_struct! {
    /// What a custom resource definition defines.
    pub struct CustomResourceDefinitionSpec {
        /// API group of the resource.
        group: String,
        /// Names of the resource.
        names: CustomResourceDefinitionNames,
        /// `Namespaced` or `Cluster`.
        scope: String,
        /// Served versions.
        versions: Vec<CustomResourceDefinitionVersion>,
        /// Conversion between versions, kept as JSON.
        conversion: serde_json::Value,
        /// Deprecated: keep unknown fields.
        preserve_unknown_fields: bool,
    }
}

api_struct! {
    /// Names of a custom resource.
    pub struct CustomResourceDefinitionNames {
        /// Plural used in paths.
        plural: String,
        /// Singular name.
        singular: String,
        /// Short names for kubectl.
        short_names: Vec<String>,
        /// Kind of objects.
        kind: String,
        /// Kind of lists.
        list_kind: String,
        /// Categories (`all`).
        categories: Vec<String>,
    }
}

api_struct! {
    /// One version of a custom resource.
    pub struct CustomResourceDefinitionVersion {
        /// Version name (`v1alpha1`).
        name: String,
        /// Whether the version is served.
        served: bool,
        /// Whether objects are stored in this version.
        storage: bool,
        /// Whether the version is deprecated.
        deprecated: bool,
        /// Warning returned to clients of a deprecated version.
        deprecation_warning: String,
        /// Validation schema.
        schema: CustomResourceValidation,
        /// Status and scale subresources, kept as JSON.
        subresources: serde_json::Value,
        /// Extra `kubectl get` columns, kept as JSON.
        additional_printer_columns: Vec<serde_json::Value>,
    }
}

api_struct! {
    /// The validation schema of a version.
    pub struct CustomResourceValidation {
        /// The OpenAPI v3 schema, kept as JSON.
        #[serde(rename = "openAPIV3Schema")]
        open_api_v3_schema: serde_json::Value,
    }
}

api_struct! {
    /// Acceptance state of a definition.
    pub struct CustomResourceDefinitionStatus {
        /// Conditions (`Established`, `NamesAccepted`).
        conditions: Vec<CustomResourceDefinitionCondition>,
        /// Names actually served.
        accepted_names: CustomResourceDefinitionNames,
        /// Versions ever persisted.
        stored_versions: Vec<String>,
    }
}

api_struct! {
    /// One condition of a definition.
    pub struct CustomResourceDefinitionCondition {
        /// Condition type.
        #[serde(rename = "type")]
        type_: String,
        /// `True`, `False` or `Unknown`.
        status: String,
        /// When the status last changed.
        last_transition_time: Time,
        /// Machine-readable reason.
        reason: String,
        /// Human-readable message.
        message: String,
    }
}

impl CustomResourceDefinitionSpec {
    /// The resource this definition serves in `version`, for a dynamic client; `None` when
    /// the version, group, kind or plural is missing.
    pub fn api_resource(&self, version: &str) -> Option<ApiResource> {
        let names = self.names.as_ref()?;
        let served = self
            .versions
            .as_deref()?
            .iter()
            .any(|v| v.name.as_deref() == Some(version));
        if !served {
            return None;
        }
        let gvk = GroupVersionKind::new(self.group.as_deref()?, version, names.kind.as_deref()?);
        let scope = match self.scope.as_deref() {
            Some("Cluster") => Scope::Cluster,
            _ => Scope::Namespaced,
        };
        Some(ApiResource::from_gvk(&gvk, names.plural.as_deref()?, scope))
    }
}
